"""`mltrack hw`: what was found, the class, a calibration score, stored in progress.db."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

from typer.testing import CliRunner

from hardware.calibrate import REF_GBPS, REF_GFLOPS, calibrate
from hardware.detect import detect
from tracker.benchmarks import grading_env
from tracker.cli.app import app
from tracker.store import Store
from tracker.store.benchstore import (
    calibration_scores,
    hardware_snapshots,
    latest_calibration,
    record_hardware,
)

HEAVY = ["torch", "sklearn", "onnxruntime", "textual", "scipy", "pandas"]


def run(workspace, *args):
    return CliRunner().invoke(app, ["--workspace", str(workspace.root), *args])


def test_calibration_is_short_and_its_score_follows_from_its_figures():
    cal = calibrate(max_time_s=0.5)
    assert cal.compute_gflops > 0 and cal.memory_gbps > 0
    expected = math.sqrt(cal.compute_gflops / REF_GFLOPS * cal.memory_gbps / REF_GBPS)
    assert math.isclose(cal.score, expected, rel_tol=1e-3)
    assert cal.seconds < 10  # ~1 s on an idle machine; a busy one takes longer


def test_hw_shows_the_machine_and_stores_a_calibrated_snapshot(workspace):
    done = run(workspace, "hw", "--json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    machine = detect()
    assert report["machine"]["fingerprint"] == machine.fingerprint
    assert report["machine"]["class"]["id"] == machine.cls.id
    assert report["machine"]["cpu"]["logical_cores"] == machine.cpu.logical_cores
    assert report["machine"]["nvml"]["status"] == machine.nvml.status
    assert report["calibration"]["score"] > 0 and report["stored"] is True
    store = Store(workspace.db_path)
    try:
        [row] = hardware_snapshots(store)
        assert (row.fingerprint, row.hw_class) == (machine.fingerprint, machine.cls.id)
        assert row.score == report["calibration"]["score"]
        assert json.loads(row.data)["cpu"]["model"] == machine.cpu.model
        assert calibration_scores(store) == {machine.fingerprint: row.score}
    finally:
        store.close()


def test_a_noisy_calibration_is_kept_but_a_stable_one_is_preferred(workspace):
    machine = detect().to_dict()
    fp = machine["fingerprint"]
    store = Store(workspace.db_path)
    try:
        record_hardware(store, machine, {"score": 1.0, "valid": True})
        record_hardware(store, machine, {"score": 0.6, "valid": False})  # taken while busy
        assert calibration_scores(store) == {fp: 1.0}
        assert latest_calibration(store, fp).score == 1.0
        assert json.loads(grading_env(workspace)["MLTRACK_CALIBRATION"]) == {fp: 1.0}
        record_hardware(store, machine, {"score": 1.2, "valid": True})
        assert calibration_scores(store) == {fp: 1.2}
    finally:
        store.close()


def test_only_noisy_calibrations_still_give_a_score(workspace):
    machine = detect().to_dict()
    store = Store(workspace.db_path)
    try:
        record_hardware(store, machine, {"score": 0.7, "valid": False})
        record_hardware(store, machine, {"score": 0.8, "valid": False})
        assert calibration_scores(store) == {machine["fingerprint"]: 0.8}
    finally:
        store.close()


def test_hw_without_calibrating_shows_the_stored_calibration(workspace):
    first = json.loads(run(workspace, "hw", "--json").output)
    again = run(workspace, "hw", "--json", "--no-calibrate")
    assert again.exit_code == 0, again.output
    report = json.loads(again.output)
    assert report["calibration"] == first["calibration"] and report["stored"] is False


def test_hw_in_text_names_class_fingerprint_gpu_state_and_score(workspace):
    done = run(workspace, "hw")
    assert done.exit_code == 0, done.output
    machine = detect()
    for needle in (machine.cls.id, machine.fingerprint, "calibration", "score", "fpga"):
        assert needle in done.output
    if not machine.gpus:
        assert "none —" in done.output  # no GPU is stated, not an error


def test_hw_outside_a_course_shows_the_machine_and_stores_nothing(tmp_path):
    env = {**os.environ, "MLTRACK_WORKSPACE": ""}
    done = subprocess.run([sys.executable, "-c", "from tracker.cli import main; main()", "hw",
                           "--no-calibrate"], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "not stored: no mltrack course here" in done.stdout
    assert not (tmp_path / "progress.db").exists()


def test_hw_and_status_import_nothing_heavy(workspace):
    for argv in (["hw", "--no-calibrate", "--json"], ["status", "--json"], ["status"]):
        probe = (
            "import sys, json\n"
            f"sys.argv = ['mltrack', *{argv!r}]\n"
            "from tracker.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)), "
            "file=sys.stderr)\n")
        env = {**os.environ, "MLTRACK_WORKSPACE": str(workspace.root)}
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                              env=env, timeout=120)
        assert json.loads(done.stderr.strip().splitlines()[-1]) == [], argv

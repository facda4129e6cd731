"""`mltrack doctor` and `mltrack watch` on a real workspace."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from typer.testing import CliRunner

from tracker.cli import app
from tracker.watch import snapshot, wait_for_change

runner = CliRunner()


def test_doctor_passes_on_a_sound_course(workspace):
    result = runner.invoke(app, ["--workspace", str(workspace.root), "doctor", "--json"])
    assert result.exit_code == 0, result.output
    names = [c["name"] for c in json.loads(result.stdout)]
    assert names == ["python", "plans", "challenges", "packages", "progress.db", "git",
                     "git drivers", "hardware", "sandbox"]


def test_doctor_names_a_broken_challenge_and_exits_1(workspace):
    meta = workspace.challenges_dir / "add" / "challenge.toml"
    meta.write_text(meta.read_text().replace("timeout_s = 10", "timeout_s = 'x'"))
    result = runner.invoke(app, ["--workspace", str(workspace.root), "doctor"])
    assert result.exit_code == 1
    assert "challenge.toml: field 'timeout_s' must be a number" in result.stdout


def test_wait_for_change_sees_a_save(tmp_path):
    (tmp_path / "solution.py").write_text("v1")
    before = snapshot(tmp_path)
    assert wait_for_change(tmp_path, before, interval=0.05, stop=lambda: True) is None
    (tmp_path / "solution.py").write_text("version 2")
    after = wait_for_change(tmp_path, before, interval=0.05, settle=0.05)
    assert after != before


def test_watch_regrades_when_the_solution_is_saved(workspace, write_solution):
    folder = write_solution("add", "add_fail")
    env = {**os.environ, "MLTRACK_WORKSPACE": str(workspace.root)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from tracker.cli import main; main()", "watch", "day1",
         "--interval", "0.1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not workspace.db_path.exists():
            time.sleep(0.1)
        time.sleep(1.5)  # the first grade is recorded
        (folder / "solution.py").write_text("def add(a, b):\n    return a + b\n")
        while time.monotonic() < deadline:
            out = subprocess.run(
                [sys.executable, "-c", "from tracker.cli import main; main()", "status",
                 "--json"], env=env, capture_output=True, text=True).stdout
            if json.loads(out)["days"][0]["status"] == "passed":
                break
            time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert "FAILED" in out and "PASSED" in out, out + err

"""progress.db keeps benchmark results with the hardware fingerprint, git commit, statistics
and raw samples; migration 2 adds them to a database made by migration 1."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import pytest

from graders.results import BenchResult, CaseResult, GradeResult, Outcome, Verdict
from tracker.store import Store
from tracker.store.benchstore import (
    bench_records,
    bench_samples,
    calibration_scores,
    hardware_snapshots,
    latest_benches,
    latest_calibration,
    record_hardware,
)
from tracker.store.migrations import LATEST, MIGRATIONS

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
MACHINE = {"fingerprint": "00ff00ff00ff00ff", "class": {"id": "x86-cpu"},
           "summary": "x86-cpu: test CPU", "cpu": {"model": "test CPU"}}


def bench(name: str = "lu vs scipy", value: float = 0.03) -> BenchResult:
    return BenchResult(
        nodeid="test_day002.py::test_benchmark", name=name, kind="compare", value=value,
        unit="x", low=value * 0.9, high=value * 1.1, target=">= 0.002×", verdict="PASS",
        valid=True, fingerprint=MACHINE["fingerprint"], hw_class="x86-cpu",
        stats={"speedup": value, "rounds": 3}, samples={"ratios": [value * 0.9, value,
                                                                    value * 1.1]})


def result(*benches: BenchResult, challenge: str = "day002") -> GradeResult:
    return GradeResult(challenge, Verdict.PASSED, "ok",
                       [CaseResult("test_x.py::test_benchmark", Outcome.PASSED)],
                       benches=list(benches), hardware=MACHINE)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "progress.db", clock=lambda: NOW)
    yield s
    s.close()


def record(store, res, head="abc123"):
    return store.record_attempt(plan="ml150", day=2, result=res, solution_hash="h",
                                source="cli", started_at=NOW, git_head=head)


def test_an_attempt_stores_its_benchmarks_with_hardware_commit_statistics_and_samples(store):
    attempt = record(store, result(bench(), bench("qr vs numpy", 0.05)), head="c0ffee")
    rows = bench_records(store, attempt_id=attempt.id)
    assert [r.name for r in rows] == ["qr vs numpy", "lu vs scipy"]  # newest first
    lu = rows[1]
    assert (lu.fingerprint, lu.hw_class, lu.git_head) == (MACHINE["fingerprint"], "x86-cpu",
                                                         "c0ffee")
    assert (lu.value, lu.unit, lu.verdict, lu.valid) == (0.03, "x", "PASS", True)
    assert json.loads(lu.stats)["rounds"] == 3
    assert bench_samples(lu) == {"ratios": [0.027, 0.03, 0.033]}
    [snap] = hardware_snapshots(store)  # the machine, recorded once...
    assert snap.fingerprint == MACHINE["fingerprint"] and snap.score is None
    record(store, result(bench()))
    assert len(hardware_snapshots(store)) == 1  # ...not again for every attempt


def test_the_latest_benchmarks_of_each_day(store):
    record(store, result(bench(value=0.01)))
    record(store, result(bench(value=0.02), bench("qr vs numpy", 0.05)))
    record(store, result())  # an attempt without benchmarks changes nothing
    record(store, result(bench("other", 1.0), challenge="day001"))
    latest = latest_benches(store)
    assert [r.value for r in latest["day002"]] == [0.02, 0.05]
    assert [r.name for r in latest["day001"]] == ["other"]


def test_calibrations_are_kept_per_machine(store):
    record_hardware(store, MACHINE, {"compute_gflops": 40.0, "memory_gbps": 8.0, "score": 1.0})
    other = {**MACHINE, "fingerprint": "1111222233334444"}
    record_hardware(store, other, {"score": 0.5})
    record_hardware(store, MACHINE, {"score": 1.2})
    assert calibration_scores(store) == {MACHINE["fingerprint"]: 1.2, "1111222233334444": 0.5}
    assert latest_calibration(store, MACHINE["fingerprint"]).score == 1.2
    assert latest_calibration(store, "nope") is None


def test_migration_2_upgrades_a_version_1_database_and_keeps_its_attempts(tmp_path):
    path = tmp_path / "progress.db"
    raw = sqlite3.connect(path)
    number, _title, statements = MIGRATIONS[0]
    assert number == 1
    for sql in statements:
        raw.execute(sql)
    raw.execute("PRAGMA user_version = 1")
    raw.execute("INSERT INTO attempt (plan, day, challenge, started_at, finished_at, "
                "duration_s, verdict, message, passed, failed, skipped, total, solution_hash, "
                "source) VALUES ('ml150', 1, 'day001', '2026-01-01 00:00:00', "
                "'2026-01-01 00:00:01', 1.0, 'passed', 'ok', 1, 0, 0, 1, 'h', 'cli')")
    raw.commit()
    raw.close()
    store = Store(path, clock=lambda: NOW)
    try:
        assert store.schema_version() == LATEST >= 2
        assert [a.challenge for a in store.attempts()] == ["day001"]
        record(store, result(bench()))
        assert len(bench_records(store)) == 1
    finally:
        store.close()


def test_a_grade_result_with_benchmarks_survives_the_round_trip_through_json():
    res = result(bench())
    back = GradeResult.from_dict(json.loads(json.dumps(res.to_dict())))
    assert back.benches == res.benches and back.hardware == MACHINE
    assert "samples" not in back.benches[0].summary()

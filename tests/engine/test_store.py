"""progress.db: migrations, WAL, atomic attempts, day states, hints, bad files."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime

import pytest
from sqlmodel import SQLModel

from graders.results import CaseResult, GradeResult, Metric, Outcome, Verdict
from tracker.errors import StoreError
from tracker.store import Store
from tracker.store.migrations import LATEST

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "progress.db", clock=lambda: NOW)
    yield s
    s.close()


def result(verdict: Verdict, challenge: str = "add") -> GradeResult:
    outcome = Outcome.PASSED if verdict == Verdict.PASSED else Outcome.FAILED
    return GradeResult(challenge, verdict, "msg",
                       [CaseResult("test_add.py::test_one", outcome, 0.01, "boom", "trace")],
                       [Metric("speedup", 1.7, "x", ">= 1.5", "PASS", {"low": 1.6})])


def record(store, verdict, challenge="add"):
    return store.record_attempt(plan="mini", day=1, result=result(verdict, challenge),
                                solution_hash="abc", source="cli", started_at=NOW)


def test_a_new_database_is_migrated_to_the_latest_schema_in_wal_mode(store, tmp_path):
    assert store.schema_version() == LATEST
    with sqlite3.connect(tmp_path / "progress.db") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_older_database_is_upgraded_in_place_keeping_its_rows(tmp_path):
    """A progress.db written by the first release (schema 1) keeps every attempt and gains
    the benchmark tables."""
    from tracker.store.migrations import MIGRATIONS

    path = tmp_path / "progress.db"
    with sqlite3.connect(path) as raw:
        for statement in MIGRATIONS[0][2]:
            raw.execute(statement)
        raw.execute("INSERT INTO attempt VALUES (1, 'mini', 1, 'add', '2026-03-01 10:00:00', "
                    "'2026-03-01 10:00:01', 1.0, 'passed', 'ok', 2, 0, 0, 2, 'h', 'cli', NULL)")
        raw.execute("PRAGMA user_version = 1")
    upgraded = Store(path, clock=lambda: NOW)
    try:
        assert upgraded.schema_version() == LATEST
        [old] = upgraded.attempts("add")
        assert (old.id, old.verdict, old.passed) == (1, "passed", 2)
        record(upgraded, Verdict.FAILED)
        assert len(upgraded.attempts("add")) == 2
    finally:
        upgraded.close()
    with sqlite3.connect(path) as raw:
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"benchrecord", "hardwaresnapshot"} <= tables


def test_the_models_match_the_migrated_schema_column_for_column(store, tmp_path):
    with sqlite3.connect(tmp_path / "progress.db") as raw:
        for table in SQLModel.metadata.sorted_tables:
            columns = {row[1] for row in raw.execute(f"PRAGMA table_info({table.name})")}
            assert columns == {c.name for c in table.columns}, table.name


def test_an_attempt_is_stored_with_its_checks_and_metrics(store):
    attempt = record(store, Verdict.FAILED)
    [case] = store.cases(attempt.id)
    assert (case.nodeid, case.outcome, case.message) == ("test_add.py::test_one", "failed", "boom")
    [metric] = store.metrics(attempt.id)
    assert (metric.name, metric.value, metric.verdict) == ("speedup", 1.7, "PASS")
    assert store.attempts("add")[0].verdict == "failed"


def test_day_status_follows_the_attempts_and_a_pass_is_kept(store):
    record(store, Verdict.FAILED)
    assert store.state("add").status == "failed"
    record(store, Verdict.PASSED)
    assert store.state("add").status == "passed" and store.state("add").passed_at == NOW
    record(store, Verdict.FAILED)
    state = store.state("add")
    assert (state.status, state.attempts) == ("passed", 3)
    store.mark_reset("add")
    assert store.state("add").status == "in-progress"
    assert store.state("add").passed_at == NOW  # the reference stays unlocked


@pytest.mark.parametrize("verdict,status", [
    (Verdict.SKIPPED, "skipped-hw"), (Verdict.INCONCLUSIVE, "inconclusive"),
    (Verdict.TIMEOUT, "failed"), (Verdict.CRASHED, "failed"), (Verdict.ERROR, "failed"),
])
def test_every_verdict_maps_to_a_status(store, verdict, status):
    record(store, verdict)
    assert store.state("add").status == status


def test_hints_are_handed_out_once_each_in_order(store):
    assert [store.use_hint("add", 2) for _ in range(3)] == [0, 1, None]
    assert store.hints_used("add") == 2


def test_concurrent_writers_lose_no_attempt(tmp_path):
    path = tmp_path / "progress.db"
    Store(path).close()
    errors = []

    def writer():
        s = Store(path)
        try:
            for _ in range(10):
                record(s, Verdict.PASSED)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    check = Store(path)
    assert check.count_attempts() == 60
    assert check.state("add").attempts == 60
    check.close()


def test_a_corrupted_file_is_a_clear_error(tmp_path):
    path = tmp_path / "progress.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="is not an SQLite database"):
        Store(path)


def test_a_newer_schema_is_refused_not_damaged(tmp_path):
    path = tmp_path / "progress.db"
    Store(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(StoreError, match="upgrade mltrack"):
        Store(path)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == LATEST + 1

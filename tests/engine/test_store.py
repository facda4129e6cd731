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


def test_notes_are_kept_per_day_oldest_first(store):
    first = store.add_note(plan="mini", day=3, text="read the paper")
    store.add_note(plan="mini", day=4, text="rest")
    store.add_note(plan="other", day=3, text="elsewhere")
    second = store.add_note(plan="mini", day=3, text="second thought")
    assert [n.text for n in store.notes("mini", 3)] == ["read the paper", "second thought"]
    assert len(store.notes("mini")) == 3 and len(store.notes()) == 4
    assert first.uid != second.uid and len(first.uid) == 32


def test_a_day_without_a_grader_can_be_marked_done_once(store):
    assert store.days_done("mini") == set()
    done = store.mark_day_done(plan="mini", day=7)
    assert store.mark_day_done(plan="mini", day=7).uid == done.uid
    store.mark_day_done(plan="mini", day=9)
    store.mark_day_done(plan="other", day=1)
    assert store.days_done("mini") == {7, 9}


def test_a_schema_2_database_gains_stable_ids_notes_and_done_days(tmp_path):
    from tracker.store.migrations import MIGRATIONS

    path = tmp_path / "progress.db"
    with sqlite3.connect(path) as raw:
        for _number, _title, statements in MIGRATIONS[:2]:
            for statement in statements:
                raw.execute(statement)
        for n in (1, 2):
            raw.execute(f"INSERT INTO attempt VALUES ({n}, 'mini', 1, 'add', "
                        "'2026-03-01 10:00:00', '2026-03-01 10:00:01', 1.0, 'passed', 'ok', "
                        "2, 0, 0, 2, 'h', 'cli', NULL)")
        raw.execute("PRAGMA user_version = 2")
    upgraded = Store(path, clock=lambda: NOW)
    try:
        uids = {a.uid for a in upgraded.attempts()}
        assert len(uids) == 2 and None not in uids
        upgraded.add_note(plan="mini", day=1, text="kept")
        assert upgraded.days_done("mini") == set()
    finally:
        upgraded.close()


def test_the_shipped_progress_db_is_empty_and_current():
    """The course ships a record with no attempts and nothing about the machine that built
    it (a calibration there would be trusted on the learner's machine). Regenerate with
    `python -c "from pathlib import Path; from tracker.store.merge import Records, write;
    write(Records(), Path('progress.db'))"`."""
    from contextlib import closing
    from pathlib import Path

    shipped = Path(__file__).resolve().parents[2] / "progress.db"
    with closing(sqlite3.connect(f"file:{shipped}?immutable=1", uri=True)) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == LATEST
        tables = [r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = {t: raw.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    assert set(rows) == {t.name for t in SQLModel.metadata.sorted_tables}
    assert rows == dict.fromkeys(rows, 0)


def test_the_course_tells_git_how_to_merge_and_diff_progress_db():
    from pathlib import Path

    from tracker.gitops import ATTRIBUTES

    attributes = Path(__file__).resolve().parents[2] / ".gitattributes"
    assert ATTRIBUTES in attributes.read_text(encoding="utf-8").splitlines()


def test_a_store_follows_a_file_replaced_under_it(store, tmp_path):
    """`git checkout/pull/reset` of progress.db while the TUI holds a Store: the next read
    sees the new file (migrated if it is older), and no connection outlives an operation."""
    import os

    from tracker.store.migrations import MIGRATIONS

    record(store, Verdict.PASSED)
    older = tmp_path / "older.db"
    with sqlite3.connect(older) as raw:
        for _number, _title, statements in MIGRATIONS[:2]:
            for statement in statements:
                raw.execute(statement)
        for n in (1, 2):
            raw.execute(f"INSERT INTO attempt VALUES ({n}, 'mini', 1, 'add', "
                        "'2026-03-01 10:00:00', '2026-03-01 10:00:01', 1.0, 'failed', 'x', "
                        "0, 2, 0, 2, 'h', 'cli', NULL)")
        raw.execute("PRAGMA user_version = 2")
    assert not (tmp_path / "progress.db-wal").exists()  # nothing held open between reads
    os.replace(older, tmp_path / "progress.db")
    assert [a.verdict for a in store.attempts()] == ["failed", "failed"]
    assert store.schema_version() == LATEST


def test_a_zero_byte_file_is_damage_not_a_fresh_start(tmp_path):
    path = tmp_path / "progress.db"
    path.write_bytes(b"")
    with pytest.raises(StoreError, match=r"is damaged: it is empty \(0 bytes\)"):
        Store(path)
    assert path.read_bytes() == b""


def test_full_outputs_stay_on_this_machine_and_the_record_keeps_excerpts(store, tmp_path):
    long = "line of output\n" * 2000
    failing = GradeResult("add", Verdict.FAILED, "msg", [
        CaseResult(f"test_add.py::test_{i}", Outcome.FAILED, 0.01, "x" * 1000, long)
        for i in range(10)])
    attempt = store.record_attempt(plan="mini", day=1, result=failing, solution_hash="h",
                                   source="cli", started_at=NOW)
    with sqlite3.connect(tmp_path / "progress.db") as raw:
        stored = [r for r in raw.execute("SELECT message, details FROM caserecord")]
    assert all(len(message) <= 240 for message, _ in stored)
    assert sum(len(details) for _, details in stored) < 2000
    assert "characters cut" in stored[0][1] and stored[0][1].endswith("line of output\n")
    assert [c.details for c in store.cases(attempt.id)] == [long] * 10  # from .mltrack/
    assert list((tmp_path / ".mltrack" / "outputs").glob("*.json.gz"))


def test_stores_opened_at_once_on_no_file_agree_on_one_new_database(tmp_path):
    """The first grades of a course, started together: one of them creates the file, whole;
    none sees a half-made (0-byte) one and calls it damaged."""
    path = tmp_path / "progress.db"
    errors, stores = [], []

    def open_and_record():
        try:
            s = Store(path)
            stores.append(s)
            record(s, Verdict.PASSED)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_and_record) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert stores[0].count_attempts() == 8
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".new")] == []
    for s in stores:
        s.close()

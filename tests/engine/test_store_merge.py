"""The merge driver's rules on two progress.db files: the union of records, each once; day
states derived again; ids in time order; older schemas read; damage refused, not merged."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest

from graders.results import CaseResult, GradeResult, Outcome, Verdict
from tracker.store import Store
from tracker.store.merge import main, merge_files, textconv
from tracker.store.migrations import LATEST, MIGRATIONS

T0 = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start):
        self.now = start

    def __call__(self):
        self.now += timedelta(minutes=1)
        return self.now


def result(verdict: Verdict, challenge="add") -> GradeResult:
    outcome = Outcome.PASSED if verdict == Verdict.PASSED else Outcome.FAILED
    return GradeResult(challenge, verdict, "msg", [
        CaseResult(f"test_{challenge}.py::test_{i}", outcome, 0.01, "m", "") for i in range(3)])


def grade(store, verdict, challenge="add", day=1):
    return store.record_attempt(plan="mini", day=day, result=result(verdict, challenge),
                                solution_hash="h", source="cli", started_at=store.clock()).uid


@pytest.fixture
def sides(tmp_path):
    """A shared history, then two clones that went on separately (desktop an hour later)."""
    base = Store(tmp_path / "base.db", clock=Clock(T0))
    shared = {grade(base, Verdict.FAILED)}
    base.use_hint("add", 3)
    base.close()
    shutil.copyfile(tmp_path / "base.db", tmp_path / "laptop.db")
    shutil.copyfile(tmp_path / "base.db", tmp_path / "desktop.db")
    laptop = Store(tmp_path / "laptop.db", clock=Clock(T0 + timedelta(hours=1)))
    desktop = Store(tmp_path / "desktop.db", clock=Clock(T0 + timedelta(hours=2)))
    return tmp_path, shared, laptop, desktop


def attempts(path):
    with closing(sqlite3.connect(path)) as raw:
        return raw.execute("SELECT id, uid, finished_at FROM attempt ORDER BY id").fetchall()


def test_the_union_holds_every_record_of_both_sides_once(sides):
    tmp, shared, laptop, desktop = sides
    mine = {grade(laptop, Verdict.PASSED), grade(laptop, Verdict.FAILED, "gpu-only", 3)}
    theirs = {grade(desktop, Verdict.FAILED), grade(desktop, Verdict.FAILED)}
    laptop.use_hint("add", 3)  # hint 2 on both sides: used once
    desktop.use_hint("add", 3)
    desktop.add_note(plan="mini", day=2, text="rest")
    laptop.mark_day_done(plan="mini", day=2)
    desktop.mark_day_done(plan="mini", day=2)
    merged = merge_files(tmp / "laptop.db", tmp / "desktop.db", tmp / "laptop.db")
    assert merged.count("attempt") == 5
    store = Store(tmp / "laptop.db")
    assert {a.uid for a in store.attempts()} == shared | mine | theirs
    assert store.hints_used("add") == 2
    assert [n.text for n in store.notes("mini")] == ["rest"]
    assert store.days_done("mini") == {2}
    add = store.state("add")
    # the laptop's pass stays the first pass, however many later failures the desktop had
    assert (add.status, add.attempts) == ("passed", 4)
    newest = store.attempts("add")[0]
    assert add.passed_at.replace(tzinfo=None) < newest.finished_at.replace(tzinfo=None)
    assert store.state("gpu-only").status == "failed"
    assert [row[2] for row in attempts(tmp / "laptop.db")] == sorted(
        row[2] for row in attempts(tmp / "laptop.db"))  # ids in time order
    with closing(sqlite3.connect(tmp / "laptop.db")) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == LATEST
        assert raw.execute("SELECT count(*) FROM caserecord").fetchone()[0] == 15


def test_merging_is_symmetric_and_idempotent(sides):
    tmp, _, laptop, desktop = sides
    grade(laptop, Verdict.PASSED)
    grade(desktop, Verdict.FAILED)
    merge_files(tmp / "laptop.db", tmp / "desktop.db", tmp / "a.db")
    merge_files(tmp / "desktop.db", tmp / "laptop.db", tmp / "b.db")
    merge_files(tmp / "a.db", tmp / "b.db", tmp / "c.db")
    assert textconv(tmp / "a.db") == textconv(tmp / "b.db") == textconv(tmp / "c.db")
    assert [r[1] for r in attempts(tmp / "a.db")] == [r[1] for r in attempts(tmp / "b.db")]


def test_a_reset_after_the_latest_attempt_survives_the_merge(sides):
    tmp, _, laptop, desktop = sides
    grade(laptop, Verdict.PASSED)
    laptop.mark_reset("add")
    merge_files(tmp / "laptop.db", tmp / "desktop.db", tmp / "m.db")
    assert Store(tmp / "m.db").state("add").status == "in-progress"


def test_an_older_schema_side_is_read_by_column_name(sides):
    tmp, shared, laptop, _ = sides
    old = tmp / "old.db"
    with closing(sqlite3.connect(old)) as raw:
        for statement in MIGRATIONS[0][2]:
            raw.execute(statement)
        raw.execute("INSERT INTO attempt VALUES (1, 'mini', 1, 'add', '2026-03-01 10:00:00', "
                    "'2026-03-01 10:00:01', 1.0, 'passed', 'ok', 2, 0, 0, 2, 'h', 'cli', NULL)")
        raw.execute("PRAGMA user_version = 1")
        raw.commit()
    merged = merge_files(tmp / "laptop.db", old, tmp / "m.db")
    assert merged.count("attempt") == 2
    assert Store(tmp / "m.db").state("add").status == "passed"


def test_a_damaged_or_newer_side_is_refused_and_git_keeps_the_conflict(sides, capsys):
    tmp, _, laptop, _ = sides
    (tmp / "theirs.db").write_bytes(b"")
    before = (tmp / "laptop.db").read_bytes()
    assert main(["merge", "base", str(tmp / "laptop.db"), str(tmp / "theirs.db")]) == 1
    assert "it is empty (0 bytes)" in capsys.readouterr().err
    assert (tmp / "laptop.db").read_bytes() == before
    shutil.copyfile(tmp / "base.db", tmp / "newer.db")
    with closing(sqlite3.connect(tmp / "newer.db")) as raw:
        raw.execute(f"PRAGMA user_version = {LATEST + 1}")
    assert main(["merge", "base", str(tmp / "laptop.db"), str(tmp / "newer.db")]) == 1
    assert "newer mltrack" in capsys.readouterr().err
    assert not [p for p in tmp.iterdir() if p.name.endswith(("-wal", "-shm", ".merge"))
                and "laptop" not in p.name and "desktop" not in p.name]


def test_textconv_prints_one_line_per_record_in_time_order(sides):
    tmp, _, laptop, _ = sides
    grade(laptop, Verdict.PASSED)
    laptop.add_note(plan="mini", day=1, text="done\nat last")
    lines = textconv(tmp / "laptop.db").splitlines()
    kinds = [line.split()[2] for line in lines]
    assert kinds == ["attempt", "hint", "attempt", "note"]
    assert "mini day 1 add: passed, 3/3 checks passed" in lines[2]
    assert lines[3].endswith("mini day 1: done at last")

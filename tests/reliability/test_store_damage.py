"""A damaged progress.db is named with its recovery, exit 4, and never written over; `mltrack
doctor --fix` rebuilds it from the records it can still read."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing

import pytest
from typer.testing import CliRunner

from graders.results import CaseResult, GradeResult, Outcome, Verdict
from tracker.cli import app
from tracker.engine import Tracker
from tracker.store.migrations import LATEST

runner = CliRunner()


def mltrack(workspace, *args):
    return runner.invoke(app, ["--workspace", str(workspace.root), *args])


def page_size(path) -> int:
    with closing(sqlite3.connect(path)) as raw:
        return raw.execute("PRAGMA page_size").fetchone()[0]


def header(path):
    with path.open("r+b") as f:
        f.seek(16)
        f.write(b"\xff" * 40)


def page(path):
    size = page_size(path)
    with path.open("r+b") as f:
        f.seek(size * 3)
        f.write(os.urandom(size))


def truncation(path):
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)


def zero_bytes(path):
    path.write_bytes(b"")


def not_a_database(path):
    path.write_text("<<<<<<< HEAD\nthis is not sqlite\n" * 50)


def newer_schema(path):
    with closing(sqlite3.connect(path)) as raw:  # closed: the WAL is folded in
        raw.execute(f"PRAGMA user_version = {LATEST + 1}")


DAMAGE = [header, page, truncation, zero_bytes, not_a_database, newer_schema]


def result(verdict: Verdict) -> GradeResult:
    outcome = Outcome.PASSED if verdict == Verdict.PASSED else Outcome.FAILED
    return GradeResult("add", verdict, "msg", [
        CaseResult(f"test_add.py::test_{i}", outcome, 0.01, "boom", "trace " * 50)
        for i in range(20)])


@pytest.fixture
def graded(workspace):
    """A record with a few attempts and a note, closed as a grade leaves it."""
    t = Tracker(workspace)
    for verdict in (Verdict.FAILED, Verdict.PASSED, Verdict.FAILED):
        t.store.record_attempt(plan="mini", day=1, result=result(verdict), solution_hash="h",
                               source="cli", started_at=t.now())
    t.store.add_note(plan="mini", day=1, text="first day")
    t.store.checkpoint()
    t.store.close()
    return workspace


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda d: d.__name__)
def test_damage_is_named_with_its_recovery_exit_4_and_nothing_written(graded, damage):
    db = graded.db_path
    damage(db)
    before = db.read_bytes()
    for command in (["status"], ["grade", "day1"], ["hint", "day1"]):
        result = mltrack(graded, *command)
        assert result.exit_code == 4, (command, result.output)
        assert "Traceback" not in result.output and "sqlite://" not in result.output
        if damage is newer_schema:
            assert "upgrade mltrack" in result.output
        else:
            assert "is damaged" in result.output
            assert "git checkout -- progress.db" in result.output
            assert "mltrack doctor --fix" in result.output
    assert db.read_bytes() == before, "a damaged progress.db was written to"
    assert not db.with_name("progress.db-wal").exists()


@pytest.mark.parametrize("damage", [header, page, truncation, zero_bytes, not_a_database],
                         ids=lambda d: d.__name__)
def test_doctor_names_the_damage_and_fix_rebuilds_what_is_readable(graded, damage):
    db = graded.db_path
    damage(db)
    result = mltrack(graded, "doctor")
    assert result.exit_code == 1 and "is damaged" in result.output
    result = mltrack(graded, "doctor", "--fix")
    assert "rebuilt progress.db" in result.output, result.output
    [aside] = [p for p in db.parent.iterdir() if p.name.startswith("progress.db.damaged-")]
    assert aside.stat().st_size > 0 or damage is zero_bytes
    with closing(sqlite3.connect(db)) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == LATEST
    assert mltrack(graded, "status").exit_code == 0


def test_a_rebuild_keeps_every_record_of_a_file_with_one_bad_index_page(graded):
    """Damage that spares the tables (here: an index page) loses nothing."""
    db = graded.db_path
    with closing(sqlite3.connect(db)) as raw:
        [(root,)] = raw.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'ix_caserecord_attempt_id'")
        attempts = raw.execute("SELECT count(*) FROM attempt").fetchone()[0]
    size = page_size(db)
    with db.open("r+b") as f:
        f.seek(size * (root - 1))
        f.write(b"\x00" * size)
    result = mltrack(graded, "doctor", "--fix")
    assert "rebuilt progress.db" in result.output, result.output
    t = Tracker(graded)
    assert len(t.store.attempts()) == attempts == 3
    assert t.store.state("add").status == "passed"
    assert [n.text for n in t.store.notes("mini", 1)] == ["first day"]

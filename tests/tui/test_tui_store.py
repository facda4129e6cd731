"""The TUI and progress.db under git: a damaged record is named (never "reading…" forever),
and a `git checkout` of progress.db while the TUI runs takes effect and corrupts nothing."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from graders.results import Outcome, Verdict
from tests.conftest import git
from tests.tui.kit import SIZE, plan_rows, record, screen_text, settle, wait_until
from tracker.engine import Tracker


def commit_record(course, clock, verdict: Verdict, message: str) -> None:
    shell = Tracker(course, clock=clock)  # as `mltrack grade` in another terminal
    record(shell, "add", 1, verdict, [("test_small_integers", Outcome.PASSED, "")])
    shell.store.checkpoint()
    shell.store.close()
    git(course.root, "add", "progress.db")
    git(course.root, "commit", "-q", "-m", message)


async def test_a_damaged_record_is_named_with_its_recovery_and_read_once_restored(
        course, make_app, clock):
    commit_record(course, clock, Verdict.PASSED, "a pass")
    course.db_path.write_bytes(b"")  # a 0-byte progress.db
    app = make_app(course, refresh_interval_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = " ".join(screen_text(app).split())
        assert "is damaged: it is empty (0 bytes)" in text
        assert "reading your record" not in text
        assert course.db_path.stat().st_size == 0  # nothing written over it
        git(course.root, "checkout", "--", "progress.db")  # the advice, while the TUI runs
        await wait_until(pilot, lambda: "1  ✓ passed" in plan_rows(app)[1], timeout=10)


async def test_a_git_checkout_of_the_record_under_the_tui_takes_effect(course, make_app,
                                                                       clock):
    commit_record(course, clock, Verdict.FAILED, "a failure")
    commit_record(course, clock, Verdict.PASSED, "a pass")
    app = make_app(course, refresh_interval_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "1  ✓ passed       2 attempts" in plan_rows(app)[1]
        git(course.root, "checkout", "HEAD~1", "--", "progress.db")
        await wait_until(pilot, lambda: "1  ✗ failed       1 attempt" in plan_rows(app)[1],
                         timeout=10)
        await settle(pilot)
    with closing(sqlite3.connect(course.db_path)) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert raw.execute("SELECT count(*) FROM attempt").fetchone()[0] == 1

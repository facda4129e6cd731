"""`mltrack status` reads progress.db with plain sqlite3 (tracker.store.readout): what it reads
is what the Store gives, and any file the Store would have to migrate or reject is left to it."""

from __future__ import annotations

import sqlite3

from graders.results import Outcome, Verdict
from tests.tui.kit import bench, record
from tracker.store.benchstore import bench_summary, latest_benches
from tracker.store.readout import Readout


def _history(tracker) -> None:
    record(tracker, "add", 1, Verdict.FAILED, [("test_small_integers", Outcome.FAILED, "x")],
           benches=[bench("speed-up vs loop", 1.2, "x", target=">= 1.5×", verdict="FAIL")])
    record(tracker, "add", 1, Verdict.PASSED, [("test_small_integers", Outcome.PASSED, "")],
           benches=[bench("speed-up vs loop", 1.8, "x", low=1.7, high=1.9),
                    bench("add latency", 3.4e-3, "s")])
    record(tracker, "gpu-only", 3, Verdict.SKIPPED, [("test_gpu", Outcome.SKIPPED, "no GPU")])
    tracker.store.mark_day_done(plan=tracker.plan.id, day=2)


def test_the_readout_reads_what_the_store_gives(tracker, workspace):
    _history(tracker)
    readout = Readout.read(workspace.db_path)
    assert readout is not None
    fields = ("challenge", "status", "started_at", "last_attempt_at", "passed_at", "attempts")
    store_states = {c: tuple(getattr(s, f) for f in fields)
                    for c, s in tracker.store.states().items()}
    assert {c: tuple(getattr(s, f) for f in fields)
            for c, s in readout.states().items()} == store_states
    assert readout.activity_dates() == tracker.store.activity_dates()
    assert readout.days_done(tracker.plan.id) == tracker.store.days_done(tracker.plan.id) == {2}
    assert readout.latest_benches() == {
        cid: [bench_summary(r) for r in rows]
        for cid, rows in latest_benches(tracker.store).items()}
    assert [b["value"] for b in readout.latest_benches()["add"]] == [1.8, 3.4e-3]  # the newest


def test_status_json_is_the_same_through_either_path(tracker, workspace, monkeypatch):
    from typer.testing import CliRunner

    from tracker.cli import app

    _history(tracker)
    tracker.store.close()
    runner = CliRunner()
    argv = ["--workspace", str(workspace.root), "status", "--json"]
    fast = runner.invoke(app, argv)
    monkeypatch.setattr(Readout, "read", classmethod(lambda cls, db: None))
    slow = runner.invoke(app, argv)
    assert fast.exit_code == slow.exit_code == 0
    assert fast.stdout == slow.stdout


def test_a_file_the_store_must_migrate_or_reject_is_left_to_it(tracker, workspace):
    _history(tracker)
    tracker.store.close()
    with sqlite3.connect(workspace.db_path) as raw:
        raw.execute("PRAGMA user_version = 2")  # older: the Store migrates it first
    assert Readout.read(workspace.db_path) is None
    with sqlite3.connect(workspace.db_path) as raw:
        raw.execute("PRAGMA user_version = 99")  # newer: the Store refuses it, named
    assert Readout.read(workspace.db_path) is None
    workspace.db_path.write_bytes(b"not a database at all, just text" * 8)
    assert Readout.read(workspace.db_path) is None
    assert Readout.read(workspace.root / "missing.db") is None

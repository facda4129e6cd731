"""A progress.db with known benchmark records, written by mltrack's own Store (the call a grade
makes), for graders that read a learner's records (days 107 and 116).

The file is left with a rollback journal (`journal_mode = DELETE`) instead of the Store's WAL,
so that every write lands in progress.db itself (its bytes and modification time change) and a
read-only reader leaves no side file; opening it with a Store, which switches it back to WAL,
shows as a change."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

MACHINE = {"fingerprint": "116116116116116f", "class": {"id": "x86-cpu"},
           "summary": "x86-cpu: the grader's made-up CPU", "cpu": {"model": "grader CPU"}}

# one attempt: (challenge, attempt verdict, [(name, kind, value, unit, bench verdict, hw_class)])
Attempt = tuple[str, str, list[tuple[str, str, float, str, str, str]]]


def _result(challenge: str, verdict: str, benches, machine: dict):
    from graders.results import BenchResult, CaseResult, GradeResult, Outcome, Verdict

    nodeid = f"test_{challenge}.py::test_bench"
    return GradeResult(
        challenge, Verdict(verdict), verdict, [CaseResult(nodeid, Outcome(verdict))],
        benches=[BenchResult(nodeid=nodeid, name=name, kind=kind, value=value, unit=unit,
                             verdict=bv, fingerprint=machine["fingerprint"], hw_class=hw)
                 for name, kind, value, unit, bv, hw in benches],
        hardware=machine)


def record(path: Path, attempts: Iterable[Attempt], *, machine: dict = MACHINE,
           clock: Callable[[], datetime] | None = None) -> None:
    """Record `attempts` in progress.db at `path` (created when missing), oldest first, then
    leave the file with a rollback journal and no side files. `clock` stamps the attempts
    (the Store's own clock when None); `machine` is the hardware they were measured on."""
    from tracker.store import Store

    store = Store(path) if clock is None else Store(path, clock=clock)
    try:
        for challenge, verdict, benches in attempts:
            store.record_attempt(plan="ml150", day=int(challenge[3:]),
                                 result=_result(challenge, verdict, benches, machine),
                                 solution_hash="h", source="cli",
                                 started_at=datetime(2026, 12, 1, 8, tzinfo=UTC))
        store.checkpoint()
    finally:
        store.close()
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")

"""What `mltrack status` shows, read with plain sqlite3.

Importing sqlmodel and SQLAlchemy costs about 150 ms, most of a command that should answer
in under 200 ms. These reads are read-only and are used only when the file is at the schema
this mltrack writes. Anything else (a missing, older, newer or damaged file) gives None, and
the caller opens the Store, which migrates the file or names the damage.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tracker.store import health, migrations


@dataclass(frozen=True)
class StateRow:
    """A day's state as `Store.states()` gives it (the fields the status reads)."""

    challenge: str
    status: str
    started_at: datetime | None
    last_attempt_at: datetime | None
    passed_at: datetime | None
    attempts: int


_BENCH_FIELDS = ("name", "kind", "value", "unit", "low", "high", "target", "verdict", "valid",
                 "device", "hw_class", "fingerprint", "git_head", "recorded_at", "attempt_id")


class Readout:
    """The learner's standing, read once from progress.db."""

    def __init__(self, states: dict[str, StateRow], dates: list[date],
                 done: dict[str, set[int]], benches: dict[str, list[dict[str, Any]]]):
        self._states, self._dates, self._done, self._benches = states, dates, done, benches

    @classmethod
    def read(cls, db: Path) -> Readout | None:
        if not db.is_file() or health.damage(db) is not None:
            return None  # the Store names the damage and its recovery
        try:
            with closing(sqlite3.connect(db, timeout=5)) as conn:
                if migrations.version_of(conn) != migrations.LATEST:
                    return None  # the Store migrates it (or refuses a newer one)
                conn.execute("BEGIN")  # one snapshot for every read below
                return cls(_states(conn), _dates(conn), _done(conn), _benches(conn))
        except (sqlite3.Error, ValueError):
            return None  # damaged or odd: the Store names it

    def states(self) -> dict[str, StateRow]:
        return dict(self._states)

    def activity_dates(self) -> list[date]:
        return list(self._dates)

    def days_done(self, plan: str) -> set[int]:
        return set(self._done.get(plan, set()))

    def latest_benches(self) -> dict[str, list[dict[str, Any]]]:
        """{challenge: benchmark summaries of its newest attempt that ran any}, as
        benchstore.latest_benches + bench_summary give them."""
        return {k: [dict(r) for r in v] for k, v in self._benches.items()}


def _time(text: str | None) -> datetime | None:
    """A stored time as the Store gives it: aware, in UTC (the file keeps naive UTC)."""
    if not text:
        return None
    stamp = datetime.fromisoformat(text)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _states(conn: sqlite3.Connection) -> dict[str, StateRow]:
    rows = conn.execute("SELECT challenge, status, started_at, last_attempt_at, passed_at, "
                        "attempts FROM daystate")
    return {c: StateRow(c, s, _time(a), _time(b), _time(p), n) for c, s, a, b, p, n in rows}


def _dates(conn: sqlite3.Connection) -> list[date]:
    return sorted({_time(t).date() for (t,) in conn.execute("SELECT finished_at FROM attempt")})


def _done(conn: sqlite3.Connection) -> dict[str, set[int]]:
    done: dict[str, set[int]] = {}
    for plan, day in conn.execute("SELECT plan, day FROM daydone"):
        done.setdefault(plan, set()).add(day)
    return done


def _benches(conn: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
    rows = conn.execute(f"SELECT challenge, {', '.join(_BENCH_FIELDS)} FROM benchrecord "
                        "ORDER BY id DESC").fetchall()
    latest: dict[str, int] = {}
    for row in rows:  # newest first: the attempt of each challenge's newest record
        latest.setdefault(row[0], row[-1])
    found: dict[str, list[dict[str, Any]]] = {}
    for challenge, *values in reversed(rows):
        if latest[challenge] == values[-1]:
            record = dict(zip(_BENCH_FIELDS, values, strict=True))
            record["valid"] = bool(record["valid"])
            record["recorded_at"] = _time(record["recorded_at"]).isoformat()
            found.setdefault(challenge, []).append(record)
    return found

"""Open, migrate and write progress.db.

SQLite in WAL mode with a busy timeout, and every transaction `BEGIN IMMEDIATE`, so the
TUI and several CLI runs can write at once without losing an attempt or deadlocking on a
read-to-write lock upgrade.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import event, func
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlmodel import Session, create_engine, select

from graders.results import GradeResult
from tracker.clock import utcnow
from tracker.errors import StoreError
from tracker.store.benchstore import add_bench_records
from tracker.store.migrations import LATEST, MIGRATIONS
from tracker.store.models import (
    Attempt,
    CaseRecord,
    DayState,
    HintUse,
    Meta,
    MetricRecord,
)

BUSY_TIMEOUT_MS = 15_000


class Store:
    """The progress database of one workspace. `clock` is injectable for tests."""

    def __init__(self, path: Path, clock: Callable[[], datetime] = utcnow):
        self.path = path
        self.clock = clock
        self._check_header()
        self.engine = create_engine(f"sqlite:///{path}",
                                    connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(self.engine, "connect", _on_connect)
        event.listen(self.engine, "begin", _on_begin)
        try:
            self._migrate()
        except (DatabaseError, sqlite3.DatabaseError) as exc:
            raise StoreError(_explain(path, exc)) from None

    def _check_header(self) -> None:
        try:
            with self.path.open("rb") as f:
                head = f.read(16)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot be read ({exc.strerror})") from None
        if head and head != b"SQLite format 3\x00":
            raise StoreError(
                f"{self.path} is not an SQLite database (corrupted?); move it aside and "
                "mltrack starts a new one, or restore it with `git checkout -- progress.db`"
            )

    # ---- schema ------------------------------------------------------------------------

    def _migrate(self) -> None:
        with self.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            version = raw.execute("PRAGMA user_version").fetchone()[0]
            if version > LATEST:
                raise StoreError(
                    f"{self.path} has schema version {version}, newer than this mltrack "
                    f"knows ({LATEST}): upgrade mltrack"
                )
            for number, _title, statements in MIGRATIONS:
                if number <= version:
                    continue
                raw.execute("BEGIN IMMEDIATE")
                try:
                    # re-read under the write lock: another process may have migrated
                    current = raw.execute("PRAGMA user_version").fetchone()[0]
                    if current < number:
                        for sql in statements:
                            raw.execute(sql)
                        raw.execute(f"PRAGMA user_version = {number}")
                    raw.execute("COMMIT")
                except BaseException:
                    raw.execute("ROLLBACK")
                    raise

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return conn.connection.dbapi_connection.execute("PRAGMA user_version").fetchone()[0]

    @contextmanager
    def session(self) -> Iterator[Session]:
        try:
            with Session(self.engine, expire_on_commit=False) as s:
                yield s
                s.commit()
        except OperationalError as exc:
            raise StoreError(_explain(self.path, exc)) from None

    def checkpoint(self) -> None:
        """Fold the WAL into the main file, so `git add progress.db` captures everything."""
        with self.engine.connect() as conn:
            conn.connection.dbapi_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self.engine.dispose()

    # ---- settings ----------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self.session() as s:
            row = s.get(Meta, key)
            return row.value if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.session() as s:
            s.merge(Meta(key=key, value=value))

    # ---- attempts ----------------------------------------------------------------------

    def record_attempt(self, *, plan: str, day: int, result: GradeResult, solution_hash: str,
                       source: str, started_at: datetime, git_head: str | None = None) -> Attempt:
        """Store an attempt with its checks and metrics and update the day's state, atomically."""
        finished = self.clock()
        with self.session() as s:
            attempt = Attempt(
                plan=plan, day=day, challenge=result.challenge, started_at=started_at,
                finished_at=finished, duration_s=result.duration_s, verdict=str(result.verdict),
                message=result.message, passed=result.passed, failed=result.failed,
                skipped=result.skipped, total=result.total, solution_hash=solution_hash,
                source=source, git_head=git_head,
            )
            s.add(attempt)
            s.flush()
            for c in result.cases:
                s.add(CaseRecord(attempt_id=attempt.id, nodeid=c.nodeid, outcome=str(c.outcome),
                                 duration_s=c.duration_s, message=c.message, details=c.details,
                                 skip_kind=c.skip_kind))
            for m in result.metrics:
                s.add(MetricRecord(attempt_id=attempt.id, name=m.name, value=m.value, unit=m.unit,
                                   target=m.target, verdict=m.verdict,
                                   details=json.dumps(m.details, default=str)))
            add_bench_records(s, attempt, result, finished)
            state = s.get(DayState, result.challenge) or DayState(
                challenge=result.challenge, status="in-progress", started_at=started_at)
            state.attempts += 1
            state.last_attempt_at = finished
            if result.verdict.ok and state.passed_at is None:
                state.passed_at = finished
            state.status = _status_after(state, str(result.verdict))
            s.add(state)
            return attempt

    def attempts(self, challenge: str | None = None, limit: int | None = None) -> list[Attempt]:
        """Attempts, newest first."""
        with self.session() as s:
            query = select(Attempt).order_by(Attempt.id.desc())
            if challenge is not None:
                query = query.where(Attempt.challenge == challenge)
            if limit is not None:
                query = query.limit(limit)
            return list(s.exec(query))

    def count_attempts(self) -> int:
        with self.session() as s:
            return s.exec(select(func.count()).select_from(Attempt)).one()

    def cases(self, attempt_id: int) -> list[CaseRecord]:
        with self.session() as s:
            query = select(CaseRecord).where(CaseRecord.attempt_id == attempt_id)
            return list(s.exec(query.order_by(CaseRecord.id)))

    def metrics(self, attempt_id: int) -> list[MetricRecord]:
        with self.session() as s:
            query = select(MetricRecord).where(MetricRecord.attempt_id == attempt_id)
            return list(s.exec(query.order_by(MetricRecord.id)))

    def activity_dates(self) -> list[date]:
        """Distinct days (UTC) with at least one attempt, oldest first (streaks, calendars)."""
        with self.session() as s:
            stamps = s.exec(select(Attempt.finished_at)).all()
        return sorted({t.date() for t in stamps})

    # ---- day states --------------------------------------------------------------------

    def states(self) -> dict[str, DayState]:
        with self.session() as s:
            return {row.challenge: row for row in s.exec(select(DayState))}

    def state(self, challenge: str) -> DayState | None:
        with self.session() as s:
            return s.get(DayState, challenge)

    def mark_started(self, challenge: str) -> None:
        with self.session() as s:
            state = s.get(DayState, challenge)
            if state is None:
                s.add(DayState(challenge=challenge, status="in-progress", started_at=self.clock()))
            elif state.started_at is None:
                state.started_at = self.clock()
                s.add(state)

    def mark_reset(self, challenge: str) -> None:
        """Back to work on a fresh starter; history and the first pass are kept."""
        with self.session() as s:
            state = s.get(DayState, challenge)
            if state is not None:
                state.status = "in-progress"
                s.add(state)

    # ---- hints -------------------------------------------------------------------------

    def hints_used(self, challenge: str) -> int:
        with self.session() as s:
            query = select(func.count()).select_from(HintUse).where(HintUse.challenge == challenge)
            return s.exec(query).one()

    def use_hint(self, challenge: str, available: int) -> int | None:
        """Record and return the index of the next unused hint; None when all are used."""
        with self.session() as s:
            query = select(func.count()).select_from(HintUse).where(HintUse.challenge == challenge)
            used = s.exec(query).one()
            if used >= available:
                return None
            s.add(HintUse(challenge=challenge, hint_index=used, used_at=self.clock()))
            return used


def _status_after(state: DayState, verdict: str) -> str:
    if verdict == "passed" or state.passed_at is not None:
        return "passed"
    return {"skipped": "skipped-hw", "inconclusive": "inconclusive"}.get(verdict, "failed")


def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
    dbapi_conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    dbapi_conn.execute("PRAGMA journal_mode = WAL")
    dbapi_conn.execute("PRAGMA synchronous = NORMAL")
    dbapi_conn.execute("PRAGMA foreign_keys = ON")


def _on_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _explain(path: Path, exc: Exception) -> str:
    text = str(getattr(exc, "orig", exc))
    if "locked" in text or "busy" in text:
        return f"{path} is locked by another process (waited {BUSY_TIMEOUT_MS // 1000} s)"
    if "not a database" in text or "malformed" in text:
        return (f"{path} is corrupted ({text}); move it aside and mltrack starts a new one, "
                "or restore it with `git checkout -- progress.db`")
    return f"{path}: {text}"

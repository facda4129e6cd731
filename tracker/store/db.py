"""Open, migrate and write progress.db.

SQLite in WAL mode with a busy timeout, and every transaction `BEGIN IMMEDIATE`, so the
TUI and several CLI runs can write at once without losing an attempt or deadlocking on a
read-to-write lock upgrade.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import event, func
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine, select

from graders.results import GradeResult
from tracker.clock import utcnow
from tracker.errors import StoreError
from tracker.store import outputs
from tracker.store.benchstore import add_bench_records
from tracker.store.health import damage, damaged_message
from tracker.store.migrations import NewerSchema, upgrade
from tracker.store.models import (
    Attempt,
    CaseRecord,
    DayDone,
    DayState,
    HintUse,
    Meta,
    MetricRecord,
    Note,
)

BUSY_TIMEOUT_MS = 15_000


class Store:
    """The progress database of one workspace. `clock` is injectable for tests."""

    def __init__(self, path: Path, clock: Callable[[], datetime] = utcnow):
        self.path = path
        self.clock = clock
        self.outputs_dir = path.parent / ".mltrack" / "outputs"  # git-ignored, this machine
        # NullPool: a connection lives for one operation, so no process holds progress.db
        # open across a `git checkout/pull/reset` of it (the next read sees the new file)
        self.engine = create_engine(f"sqlite:///{path}", poolclass=NullPool,
                                    connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(self.engine, "connect", _on_connect)
        event.listen(self.engine, "begin", _on_begin)
        self._file: tuple[int, int] | None = None
        self._open()

    def _open(self) -> None:
        """Check the file, create or migrate it, and remember which file it is."""
        problem = damage(self.path)
        if problem:
            raise StoreError(damaged_message(self.path, problem))
        try:
            if not self.path.exists():
                _create(self.path)
            self._migrate()
        except (DatabaseError, sqlite3.Error) as exc:
            raise StoreError(_explain(self.path, exc)) from None
        except OSError as exc:
            raise StoreError(f"{self.path} cannot be created ({exc.strerror})") from None
        self._file = _identity(self.path)

    def _follow(self) -> None:
        """progress.db replaced under a long-lived store (`git checkout/pull/reset` while the
        TUI runs): check and migrate the new file before using it."""
        if _identity(self.path) != self._file:
            self._open()

    # ---- schema ------------------------------------------------------------------------

    def _migrate(self) -> None:
        with self.engine.connect() as conn:
            try:
                upgrade(conn.connection.dbapi_connection)
            except NewerSchema as exc:
                raise StoreError(f"{self.path} has {exc}: upgrade mltrack "
                                 "(nothing was written to it)") from None

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return conn.connection.dbapi_connection.execute("PRAGMA user_version").fetchone()[0]

    @contextmanager
    def session(self) -> Iterator[Session]:
        self._follow()
        try:
            with Session(self.engine, expire_on_commit=False) as s:
                yield s
                s.commit()
        except (OperationalError, DatabaseError) as exc:
            if isinstance(exc, IntegrityError):
                raise
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
            stored = outputs.excerpts([c.details for c in result.cases])
            for c, details in zip(result.cases, stored, strict=True):
                s.add(CaseRecord(attempt_id=attempt.id, nodeid=c.nodeid, outcome=str(c.outcome),
                                 duration_s=c.duration_s,
                                 message=outputs.clip(c.message, outputs.MESSAGE_MAX),
                                 details=details, skip_kind=c.skip_kind))
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
        full = [(c.nodeid, c.details) for c, kept in zip(result.cases, stored, strict=True)
                if kept != c.details]
        outputs.save(self.outputs_dir, attempt.uid, full)
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
        """An attempt's checks; the full output of each, where this machine kept it."""
        with self.session() as s:
            query = select(CaseRecord).where(CaseRecord.attempt_id == attempt_id)
            rows = list(s.exec(query.order_by(CaseRecord.id)))
            uid = s.exec(select(Attempt.uid).where(Attempt.id == attempt_id)).first()
        full = iter(outputs.load(self.outputs_dir, uid) if uid else [])
        pending = next(full, None)
        for row in rows:  # the saved outputs are in check order, a subset of them
            if pending is not None and pending[0] == row.nodeid:
                row.details = pending[1]
                pending = next(full, None)
        return rows

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

    # ---- notes and days without a grader ----------------------------------------------

    def add_note(self, *, plan: str, day: int, text: str) -> Note:
        """Keep a note on day `day` of `plan` (a day may have several)."""
        with self.session() as s:
            note = Note(plan=plan, day=day, text=text, created_at=self.clock())
            s.add(note)
            s.flush()
            return note

    def notes(self, plan: str | None = None, day: int | None = None) -> list[Note]:
        """Notes, oldest first."""
        with self.session() as s:
            query = select(Note).order_by(Note.created_at, Note.id)
            if plan is not None:
                query = query.where(Note.plan == plan)
            if day is not None:
                query = query.where(Note.day == day)
            return list(s.exec(query))

    def mark_day_done(self, *, plan: str, day: int) -> DayDone:
        """Mark a day that has no grader (rest, reading, planned-only) done; once is enough."""
        with self.session() as s:
            query = select(DayDone).where(DayDone.plan == plan, DayDone.day == day)
            done = s.exec(query).first()
            if done is None:
                done = DayDone(plan=plan, day=day, done_at=self.clock())
                s.add(done)
                s.flush()
            return done

    def days_done(self, plan: str) -> set[int]:
        """The days of `plan` marked done with `mark_day_done`."""
        with self.session() as s:
            return set(s.exec(select(DayDone.day).where(DayDone.plan == plan)))


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
        return damaged_message(path, f"SQLite: {text}")
    return f"{path}: {text}"


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _create(path: Path) -> None:
    """A new, migrated database, put in place whole: another process never sees a
    half-made file (and an empty progress.db always means damage, never a fresh start)."""
    part = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.new")
    with closing(sqlite3.connect(part, isolation_level=None)) as raw:
        raw.execute("PRAGMA journal_mode = WAL")  # stored in the file's header
        upgrade(raw)
    try:
        os.link(part, path)  # fails if another process got there first: use theirs
    except FileExistsError:
        pass
    except OSError:  # no hard links on this file system
        if not path.exists():
            os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)

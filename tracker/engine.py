"""The engine both faces call: resolve days, start, grade, record, commit, hints, status.

No UI imports here: the CLI and the TUI render what these methods return.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from graders.results import GradeResult
from tracker import gitops
from tracker.catalog import Catalog, Challenge
from tracker.clock import utcnow
from tracker.errors import ContractError, Locked, NotStarted, UnknownDay
from tracker.gitops import CommitOutcome
from tracker.plan import Plan, PlanDay, load_plan
from tracker.progress import DayRow, status_of
from tracker.workspace import Workspace

DEFAULT_PLAN = "ml150"


@dataclass(frozen=True)
class Target:
    """A resolved day: the plan row and its challenge."""

    plan: Plan
    day: PlanDay
    challenge: Challenge


@dataclass
class GradeOutcome:
    target: Target
    result: GradeResult
    attempt_id: int | None = None
    commit: CommitOutcome | None = None

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        data = {
            "plan": self.target.plan.id, "day": self.target.day.day,
            "challenge": r.challenge, "title": self.target.day.title,
            "verdict": str(r.verdict), "message": r.message,
            "passed": r.passed, "failed": r.failed, "skipped": r.skipped, "total": r.total,
            "duration_s": r.duration_s,
            "tests": [
                {"nodeid": c.nodeid, "name": c.name, "outcome": str(c.outcome),
                 "duration_s": c.duration_s, "message": c.message, "skip_kind": c.skip_kind}
                for c in r.cases
            ],
            "metrics": [m.__dict__ for m in r.metrics],
            "benchmarks": [b.summary() for b in r.benches],  # raw samples: in progress.db
            "attempt_id": self.attempt_id,
            "commit": self.commit.to_dict() if self.commit else None,
        }
        return data


@dataclass(frozen=True)
class Hint:
    number: int  # 1-based
    total: int
    text: str
    new: bool  # False when every hint was already used and this is a repeat


def _peek_meta(db: Path, key: str) -> str | None:
    """One setting of progress.db through plain sqlite3; None when it cannot be read."""
    import sqlite3
    from contextlib import closing

    if not db.is_file():
        return None
    try:
        with closing(sqlite3.connect(db, timeout=5)) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def job_for(ch: Challenge, folder: Path, limits_scale: float = 1.0):
    """The grading job for challenge `ch` against the solution in `folder`."""
    from graders.runner import Job, Limits

    limits = Limits(timeout_s=ch.timeout_s * limits_scale, memory_mb=ch.memory_mb,
                    check_timeout_s=ch.check_timeout_s * limits_scale)
    return Job(challenge_id=ch.id, challenge_dir=ch.path, solution_dir=folder,
               module=ch.module, api=ch.api, limits=limits, packages=ch.packages)


class Tracker:
    """One workspace's course and record. `source` tags attempts (cli, tui, ci)."""

    def __init__(self, workspace: Workspace, *, source: str = "cli",
                 clock: Callable[[], datetime] | None = None):
        self.ws = workspace
        self.source = source
        self.catalog = Catalog(workspace.challenges_dir)
        self.clock = clock or utcnow
        self._plans: dict[str, Plan] | None = None
        self._store = None

    # ---- course ------------------------------------------------------------------------

    def plans(self) -> dict[str, Plan]:
        if self._plans is None:
            paths = sorted(self.ws.plans_dir.glob("*.toml"))
            if not paths:
                raise ContractError(f"{self.ws.plans_dir}: no plan files (*.toml)")
            plans = [load_plan(p) for p in paths]
            self._plans = {p.id: p for p in plans}
            if len(self._plans) != len(plans):
                raise ContractError(f"{self.ws.plans_dir}: two plan files share an id")
        return self._plans

    @property
    def plan(self) -> Plan:
        """The active plan: the one chosen with `mltrack plans --use`, else ml150."""
        plans = self.plans()
        chosen = self.store.get_meta("active_plan") if self.ws.db_path.exists() else None
        for candidate in (chosen, DEFAULT_PLAN):
            if candidate in plans:
                return plans[candidate]
        return next(iter(plans.values()))

    def quick_plan(self) -> Plan:
        """The active plan, read without opening the store (no sqlmodel import) so the TUI
        can draw it at once; `plan` stays authoritative once the store is open."""
        plans = self.plans()
        chosen = _peek_meta(self.ws.db_path, "active_plan")
        for candidate in (chosen, DEFAULT_PLAN):
            if candidate in plans:
                return plans[candidate]
        return next(iter(plans.values()))

    def use_plan(self, plan_id: str) -> Plan:
        plans = self.plans()
        if plan_id not in plans:
            raise UnknownDay(f"unknown plan '{plan_id}'; plans: {', '.join(plans)}")
        self.store.set_meta("active_plan", plan_id)
        return plans[plan_id]

    def resolve(self, text: str) -> Target:
        # the plan as progress.db names it, read without opening the store: a grade's child
        # then starts before sqlmodel is imported, and the import overlaps the grading
        plan = self.plan if self._store is not None else self.quick_plan()
        day = plan.resolve(text)
        return Target(plan, day, self.catalog.get(day.challenge))

    def solution_dir(self, challenge: Challenge) -> Path:
        return self.ws.solutions_dir / challenge.id

    # ---- record ------------------------------------------------------------------------

    @property
    def store(self):
        if self._store is None:
            from tracker.store import Store  # sqlmodel is only imported when needed

            self._store = Store(self.ws.db_path, clock=self.clock)
            gitops.install_config(self.ws.root)  # progress.db's merge and diff drivers
        return self._store

    def now(self) -> datetime:
        return self.clock()

    def rows(self, plan: Plan | None = None, states: dict | None = None) -> list[DayRow]:
        """Every row of the plan with its status (`states`: the day states, if already read)."""
        plan = plan or self.plan
        states = self.store.states() if states is None else states
        rows = []
        for day in plan.days:
            state = states.get(day.challenge) if day.challenge else None
            started = bool(day.challenge) and (self.ws.solutions_dir / day.challenge).is_dir()
            rows.append(DayRow(day, status_of(day, state, started),
                               state.attempts if state else 0))
        return rows

    # ---- actions -----------------------------------------------------------------------

    def start(self, text: str) -> tuple[Target, Path, bool]:
        """Copy the starter to solutions/<id>/; returns (target, file, created)."""
        target = self.resolve(text)
        ch = target.challenge
        folder = self.solution_dir(ch)
        path = folder / ch.solution_file
        created = not path.exists()
        if created:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ch.starter_path, path)
        self.store.mark_started(ch.id)
        return target, path, created

    def grade(self, text: str, *, solution: Path | None = None, record: bool | None = None,
              commit: bool = True, on_event: Callable[[dict], None] | None = None,
              limits_scale: float = 1.0,
              cancel: threading.Event | None = None) -> GradeOutcome:
        """Grade a day. With `solution`, grade that folder instead (reviewers, CI); such a
        grade is not the learner's progress, so by default it is not recorded. Setting
        `cancel` stops the grade at once: graders.runner.Cancelled, nothing recorded."""
        if record is None:
            record = solution is None
        from graders.runner import grade
        from tracker.benchmarks import grading_env

        target = self.resolve(text)
        ch = target.challenge
        folder = solution or self.solution_dir(ch)
        if not folder.is_dir():
            if solution is not None:
                raise NotStarted(f"solution folder {folder} does not exist")
            label = target.day.label
            if self.ws.db_path.exists() and self.store.state(ch.id) is not None:
                # worked on before (maybe passed): the folder went away, the record did not
                raise NotStarted(f"{label}'s solution folder {folder.name}/ is missing: "
                                 f"`mltrack reset {label}` puts the starter back (your record "
                                 "is kept), or restore the folder from git")
            raise NotStarted(f"{label} is not started: run `mltrack start {label}`")
        job = job_for(ch, folder, limits_scale)
        job.env.update(grading_env(self.ws))  # declared board, stored calibration scores
        started = self.now()
        head: list[str | None] = []
        modified: list[str] = []
        # Open the store, read HEAD and check the day's course files while the child grades:
        # the imports (sqlmodel, GitPython) and the hashing then cost no wall-clock time on a
        # machine with a second core.
        warm = threading.Thread(target=lambda: (
            self.store, head.append(gitops.head_sha(self.ws.root)),
            modified.extend(course_changes(self.ws.root, ch.id))), daemon=True)
        if record:
            warm.start()
        result = grade(job, on_event=on_event, cancel=cancel)
        outcome = GradeOutcome(target, result)
        if not record:
            return outcome
        warm.join()
        if modified:
            raise ContractError(
                f"{target.day.label} was graded but not recorded: its grader differs from "
                f"the course manifest ({', '.join(modified[:3])}"
                f"{', ...' if len(modified) > 3 else ''}); restore the course files "
                "(`git checkout -- challenges graders`) or see `mltrack verify`")
        attempt = self.store.record_attempt(
            plan=target.plan.id, day=target.day.day, result=result,
            solution_hash=_files_hash(folder), source=self.source, started_at=started,
            git_head=head[0] if head else None,
        )
        outcome.attempt_id = attempt.id
        if commit:
            self.store.checkpoint()
            message = (f"mltrack: {target.day.label} {result.verdict} "
                       f"({result.passed}/{result.total} checks passed)")
            paths = [folder, self.ws.db_path]
            attributes = gitops.install_attributes(self.ws.root)  # first grade: the drivers
            paths += [attributes] if attributes else []
            outcome.commit = gitops.commit_paths(self.ws.root, paths, message)
        return outcome

    def hint(self, text: str) -> Hint:
        """The next unused hint (recorded), or the last one again when all are used."""
        ch = self.resolve(text).challenge
        index = self.store.use_hint(ch.id, len(ch.hints))
        if index is None:
            return Hint(len(ch.hints), len(ch.hints), ch.hints[-1], new=False)
        return Hint(index + 1, len(ch.hints), ch.hints[index], new=True)

    def hints_shown(self, text: str) -> list[str]:
        ch = self.resolve(text).challenge
        return list(ch.hints[: self.store.hints_used(ch.id)])

    def reference(self, text: str) -> list[Path]:
        """The reference solution's files, once the day has been passed."""
        target = self.resolve(text)
        state = self.store.state(target.challenge.id)
        if state is None or state.passed_at is None:
            raise Locked(f"the reference for {target.day.label} unlocks once you pass it")
        ref = target.challenge.reference_dir
        return sorted(p for p in ref.rglob("*") if p.is_file() and "__pycache__" not in p.parts)

    def reset(self, text: str) -> tuple[Target, Path | None]:
        """Restore the starter; the old solution is kept in .mltrack/backups/ (returned)."""
        target = self.resolve(text)
        folder = self.solution_dir(target.challenge)
        backup = None
        if folder.exists():
            stamp = self.now().strftime("%Y%m%dT%H%M%S%f")
            backup = self.ws.private_dir / "backups" / f"{target.challenge.id}-{stamp}"
            backup.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(folder), str(backup))
        folder.mkdir(parents=True)
        shutil.copyfile(target.challenge.starter_path, folder / target.challenge.solution_file)
        self.store.mark_reset(target.challenge.id)
        return target, backup


def course_changes(root: Path, challenge: str) -> list[str]:
    """The files one day's verdict depends on (its challenge folder, the grading helpers,
    the hardware classes) that differ from challenges/MANIFEST.sha256, as `path (modified)`
    lines; none when the workspace ships no manifest (a course being written). Plan files
    are left out: a learner's own plan changes labels, not verdicts."""
    from tracker import manifest

    path = root / manifest.MANIFEST
    if not path.is_file():
        return []
    prefixes = [p for p in manifest.day_prefixes(challenge) if p != "challenges/plans/"]
    try:
        return manifest.verify(root, path, prefixes).problems()
    except ContractError as exc:
        return [str(exc)]


def _files_hash(folder: Path) -> str:
    """sha256 over the relative paths and contents of the files in `folder`."""
    digest = hashlib.sha256()
    files = (p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in sorted(files):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()

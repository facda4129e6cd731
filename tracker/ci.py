"""Grade several days at once — those whose files changed since a git ref, or all started
ones — for CI, git hooks and `mltrack grade --changed/--all`.

In CI mode nothing the learner could have forged is trusted: progress.db is neither read
nor written (not even the stored calibration scores or the active plan), no commit is
made, and before each day the course files its verdict depends on are checked against
the course manifest (a modified grader is reported, never graded). Outside CI mode each
day is graded, recorded and committed as `mltrack grade DAY` does.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Everything the parent needs after grading is imported now: a solution graded here could
# otherwise rewrite a module on disk before it is first imported.
from graders import runner
from tracker import envguard, junit, manifest, summary  # noqa: F401  (see above)
from tracker.catalog import Challenge
from tracker.engine import DEFAULT_PLAN, GradeOutcome, Target, job_for
from tracker.errors import MltrackError
from tracker.plan import Plan, PlanDay

SCHEMA = "mltrack.grade/1"
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's empty tree: "since forever"
FAILING = {"failed", "error", "timeout", "crashed"}


class UsageError(MltrackError):
    """Bad input for a multi-day grade: a ref git does not know, an unknown plan, ..."""


@dataclass
class DayRun:
    """One selected day: its grade, or why it was not graded."""

    label: str
    day: int | None
    challenge: str
    title: str
    plan: str  # the plan whose row this is
    hardware: tuple[str, ...] = ()
    outcome: GradeOutcome | None = None
    verdict: str = ""  # the grade's verdict, or skipped / error when not graded
    reason: str = ""  # why it was not graded
    tampered: list[str] = field(default_factory=list)  # course files that differ

    @property
    def graded(self) -> bool:
        return self.outcome is not None

    @property
    def failing(self) -> bool:
        return self.verdict in FAILING

    @property
    def message(self) -> str:
        return self.outcome.result.message if self.outcome else self.reason

    def to_dict(self) -> dict[str, Any]:
        data = self.outcome.to_dict() if self.outcome else {
            "plan": self.plan, "day": self.day, "challenge": self.challenge, "title": self.title,
            "verdict": self.verdict, "message": self.reason, "passed": 0, "failed": 0,
            "skipped": 0, "total": 0, "duration_s": 0.0, "tests": [], "metrics": [],
            "benchmarks": [], "attempt_id": None, "commit": None,
        }
        data.update(label=self.label, graded=self.graded, reason=self.reason,
                    hardware=list(self.hardware), tampered=self.tampered)
        return data


@dataclass
class Batch:
    """What was selected, how, and how each day went."""

    plan: str
    mode: str  # changed | all | day
    since: str | None
    ci: bool
    days: list[DayRun] = field(default_factory=list)
    verification: manifest.Verification | None = None
    changed_during: list[str] = field(default_factory=list)  # course files changed mid-run

    @property
    def exit_code(self) -> int:
        """0: nothing failed (skipped or inconclusive days are listed, not failures);
        1: a day failed or course files differ from the manifest."""
        bad = any(d.failing for d in self.days) or self.changed_during
        bad = bad or (self.verification is not None and not self.verification.ok)
        return 1 if bad else 0

    def counts(self) -> dict[str, int]:
        counts = {"selected": len(self.days), "graded": sum(d.graded for d in self.days)}
        for key in ("passed", "failed", "skipped", "inconclusive"):
            counts[key] = 0
        for d in self.days:
            key = "failed" if d.failing else d.verdict
            counts[key] = counts.get(key, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA, "plan": self.plan, "ci": self.ci,
            "selection": {"mode": self.mode, "since": self.since},
            "verify": self.verification.to_dict() if self.verification else None,
            "changed_during_grading": self.changed_during,
            "summary": self.counts(), "exit_code": self.exit_code,
            "days": [d.to_dict() for d in self.days],
        }


# ---- git: what changed ----------------------------------------------------------------


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise UsageError(f"git {' '.join(args)}: {done.stderr.strip() or 'failed'}")
    return done.stdout


def default_since(root: Path) -> str:
    """The merge base with the branch's upstream (what is not pushed yet), else HEAD~1,
    else the empty tree (a repository with one commit: everything is new)."""
    for candidate in ("@{upstream}", "HEAD~1"):
        try:
            if candidate == "@{upstream}":
                return git(root, "merge-base", "HEAD", "@{upstream}").strip()
            return git(root, "rev-parse", "--verify", "-q", candidate).strip()
        except UsageError:
            continue
    return EMPTY_TREE


def changed_paths(root: Path, since: str, until: str | None = None) -> list[str]:
    """Paths that differ between `since` and `until`, or — without `until` — between
    `since` and the working tree, untracked files included."""
    try:
        git(root, "rev-parse", "--verify", "-q", f"{since}^{{tree}}")
    except UsageError:
        raise UsageError(f"--since {since}: not a commit in this repository "
                         "(in CI, fetch the history: actions/checkout with fetch-depth: 0)"
                         ) from None
    if until is not None:
        out = git(root, "diff", "--name-only", "--no-renames", since, until, "--")
        return sorted(set(out.splitlines()))
    out = git(root, "diff", "--name-only", "--no-renames", since, "--")
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "--", "solutions",
                    "challenges")
    return sorted(set(out.splitlines()) | set(untracked.splitlines()))


def challenges_touched(paths: Iterable[str]) -> list[str]:
    """Challenge ids whose solution (solutions/<id>/) or course folder (challenges/<id>/)
    is among `paths`."""
    found = set()
    for path in paths:
        parts = path.split("/")
        if len(parts) >= 3 and parts[0] in ("solutions", "challenges") and parts[1] != "plans":
            found.add(parts[1])
    return sorted(found)


# ---- choosing the days ----------------------------------------------------------------


def plan_without_db(plans: dict[str, Plan], wanted: str | None) -> Plan:
    """The plan to label days by, chosen without progress.db: `wanted`, else ml150, else the
    first plan."""
    if wanted is not None:
        if wanted not in plans:
            raise UsageError(f"unknown plan '{wanted}'; plans: {', '.join(plans)}")
        return plans[wanted]
    return plans.get(DEFAULT_PLAN) or next(iter(plans.values()))


def locate(plans: dict[str, Plan], plan: Plan, challenge: str) -> tuple[Plan, PlanDay]:
    """The plan row of `challenge`: in `plan`, else in another plan, else a row of its own."""
    for candidate in (plan, *plans.values()):
        for day in candidate.challenge_days():
            if day.challenge == challenge:
                return candidate, day
    return plan, PlanDay(0, challenge, 0, challenge=challenge)


def _run(plans: dict[str, Plan], plan: Plan, ch: Challenge) -> DayRun:
    owner, day = locate(plans, plan, ch.id)
    label = day.label if day.day else ch.id
    if owner is not plan:
        label = f"{owner.id}:{label}"
    return DayRun(label, day.day or None, ch.id, ch.title, owner.id, ch.hardware)


def select(tracker, plan: Plan, *, mode: str, since: str | None = None,
           until: str | None = None, day: str | None = None) -> list[DayRun]:
    """The days to grade. `changed`: challenges whose solution or course folder changed
    (and that have a solution); `all`: every challenge with a solution folder, in plan
    order; `day`: the one day named."""
    if mode == "day":
        row = plan.resolve(day)
        return [_run(tracker.plans(), plan, tracker.catalog.get(row.challenge))]
    if mode == "changed":
        paths = changed_paths(tracker.ws.root, since, until)
        edited = set(challenges_touched(p for p in paths if p.startswith("solutions/")))
        # a changed course folder matters only to a day the learner has started
        ids = [c for c in challenges_touched(paths)
               if c in edited or (tracker.ws.solutions_dir / c).is_dir()]
    else:
        folder = tracker.ws.solutions_dir
        ids = [p.name for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []
    return runs_for(tracker, plan, ids)


def runs_for(tracker, plan: Plan, ids: Iterable[str]) -> list[DayRun]:
    """Rows for these challenge ids, in plan order; ids of no challenge are left out."""
    plans, cat = tracker.plans(), tracker.catalog
    order = {d.challenge: i for i, d in enumerate(plan.challenge_days())}
    runs = []
    for cid in sorted(ids, key=lambda c: (order.get(c, len(order)), c)):
        if cid not in cat.ids():
            continue  # a solution folder for no challenge of this course: nothing to grade
        runs.append(_run(plans, plan, cat.get(cid)))
    return runs


def route(runs: list[DayRun], *, only: Iterable[str] = (), skip: Iterable[str] = ()) -> None:
    """Hardware routing. With `only`, days that need none of those kinds are dropped (a
    self-hosted runner grades just its own); days that need a kind in `skip` (or any kind,
    with "any") are kept but not graded here, with the reason."""
    only, skip = set(only), set(skip)
    if only:
        runs[:] = [r for r in runs if only & set(r.hardware)]
    for r in runs:
        if r.hardware and ("any" in skip or skip & set(r.hardware)):
            r.verdict = "skipped"
            r.reason = (f"needs {', '.join(r.hardware)}: graded on a self-hosted runner "
                        "with that hardware, not here")


# ---- grading --------------------------------------------------------------------------


def require_sandbox() -> None:
    """`--require-sandbox`: grade nothing where the OS sandbox does not work, and say why."""
    from graders import sandbox

    mode = sandbox.detect()
    if not mode.sandboxed:
        raise MltrackError(f"--require-sandbox: {mode.describe()}")


def grade_ci(tracker, plan: Plan, run: DayRun, folder: Path) -> GradeOutcome:
    """Grade from the sources alone: no progress.db (calibration, plan, attempts), no
    commit, the machine's own hardware detection."""
    plans = tracker.plans()
    owner, day = locate(plans, plan, run.challenge)
    ch = tracker.catalog.get(run.challenge)
    result = runner.grade(job_for(ch, folder))
    return GradeOutcome(Target(owner, day, ch), result)


def grade_batch(tracker, runs: list[DayRun], *, plan: Plan, mode: str,
                since: str | None = None, ci: bool = False, verify: bool | None = None,
                commit: bool = True, manifest_path: Path | None = None,
                folder_of: Callable[[DayRun], Path | None] | None = None,
                on_day: Callable[[DayRun], None] | None = None) -> Batch:
    """Grade `runs` in order. In CI mode the whole course is verified first and each day's
    files again right before it is graded (an earlier day's solution could have edited
    them); a day whose files differ is not graded and counts as failed. The manifest is
    read once, before any solution runs. `verify` defaults to `ci`; the pre-push hook
    verifies only when the course has a manifest."""
    root = tracker.ws.root
    verify = ci if verify is None else verify
    batch = Batch(plan.id, mode, since, ci, runs)
    entries = None
    if verify:
        entries = manifest.read(manifest_path or root / manifest.MANIFEST)
        batch.verification = manifest.verify(root, manifest_path, entries=entries)
    with ExitStack() as stack:
        if ci and folder_of is None:
            # every solution as pushed, copied before any of them runs: one day's solution
            # must not rewrite another's before that one is graded
            folder_of = _snapshot_solutions(tracker, runs, stack)
        environment = envguard.fingerprint() if ci else None
        for run in runs:
            if run.verdict != "skipped":  # skipped already: routed to another runner
                folder = (folder_of(run) if folder_of
                          else tracker.ws.solutions_dir / run.challenge)
                drift = envguard.changes(environment, envguard.fingerprint()) if ci else []
                if drift:
                    _refuse_drift(batch, run, drift)
                else:
                    _grade_one(tracker, plan, run, ci=ci, entries=entries, commit=commit,
                               manifest_path=manifest_path, folder=folder)
            if on_day is not None:
                on_day(run)
        if ci:
            drift = envguard.changes(environment, envguard.fingerprint())
            batch.changed_during.extend(p for p in drift if p not in batch.changed_during)
    if verify:
        after = manifest.verify(root, manifest_path, entries=entries)
        before = set(batch.verification.problems())
        batch.changed_during.extend(p for p in after.problems() if p not in before)
    return batch


def _snapshot_solutions(tracker, runs: list[DayRun],
                        stack: ExitStack) -> Callable[[DayRun], Path | None]:
    scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mltrack-ci-")))
    copies: dict[str, Path] = {}
    for run in runs:
        source = tracker.ws.solutions_dir / run.challenge
        if run.verdict != "skipped" and source.is_dir():
            copies[run.challenge] = scratch / run.challenge
            shutil.copytree(source, copies[run.challenge], symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return lambda run: copies.get(run.challenge)


def _refuse_drift(batch: Batch, run: DayRun, drift: list[str]) -> None:
    run.verdict = "error"
    run.reason = ("not graded: the Python environment changed while this run graded the "
                  "days before it (an earlier solution may have planted code): "
                  + ", ".join(drift[:3]))
    batch.changed_during.extend(p for p in drift if p not in batch.changed_during)


def _grade_one(tracker, plan: Plan, run: DayRun, *, ci: bool, entries: dict[str, str] | None,
               commit: bool, manifest_path: Path | None, folder: Path | None) -> None:
    if folder is None or not folder.is_dir():
        run.verdict = "skipped"
        run.reason = f"no solution: solutions/{run.challenge}/ was removed"
        return
    if entries is not None:
        check = manifest.verify(tracker.ws.root, manifest_path,
                                manifest.day_prefixes(run.challenge), entries=entries)
        if not check.ok:
            run.tampered = check.problems()
            run.verdict = "error"
            run.reason = ("not graded: course files differ from the manifest: "
                          + ", ".join(run.tampered[:5]))
            return
    if ci:
        run.outcome = grade_ci(tracker, plan, run, folder)
    else:
        if run.plan != plan.id or run.day is None:
            run.verdict = "error"
            run.reason = f"{run.challenge} is not a day of the active plan {plan.id}"
            return
        try:
            run.outcome = tracker.grade(str(run.day), commit=commit)
        except MltrackError as exc:
            run.verdict, run.reason = "error", str(exc)
            return
    run.verdict = str(run.outcome.result.verdict)

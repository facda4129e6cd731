"""`mltrack doctor`: is this machine and this course ready to grade? Each check says what is
wrong and what to do; nothing here imports the heavy libraries it checks for."""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
from contextlib import closing
from dataclasses import dataclass

from tracker import gitops
from tracker.errors import MltrackError

CORE_PACKAGES = ["numpy", "scipy", "sklearn", "torch", "onnxruntime", "psutil", "pynvml"]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False  # not ok, but grading still works (e.g. no git identity)

    def to_dict(self) -> dict:
        return {"name": self.name, "ok": self.ok, "warning": self.warning, "detail": self.detail}


def run_checks(tracker) -> list[Check]:
    checks = [_python()]
    checks += _course(tracker)
    checks.append(_packages(tracker))
    checks.append(_database(tracker))
    checks.append(_git(tracker))
    checks.append(_drivers(tracker))
    checks.append(_hardware(tracker))
    checks.append(_sandbox())
    return checks


def _python() -> Check:
    v = sys.version_info
    return Check("python", v >= (3, 11), f"{v.major}.{v.minor}.{v.micro} ({sys.executable})")


def _course(tracker) -> list[Check]:
    try:
        plans = tracker.plans()
    except MltrackError as exc:
        return [Check("plans", False, str(exc))]
    broken = []
    ids = tracker.catalog.ids()
    for cid in ids:
        try:
            tracker.catalog.get(cid)
        except MltrackError as exc:
            broken.append(str(exc))
    missing = [f"{p.id} day {d.day} -> {d.challenge}" for p in plans.values()
               for d in p.challenge_days() if d.challenge not in ids]
    return [
        Check("plans", not missing, f"{len(plans)} plan(s): {', '.join(plans)}" if not missing
              else "entries without a challenge folder: " + "; ".join(missing[:3])),
        Check("challenges", not broken, f"{len(ids)} valid" if not broken
              else f"{len(broken)} invalid; first: {broken[0]}"),
    ]


def _packages(tracker) -> Check:
    wanted = set(CORE_PACKAGES)
    for cid in tracker.catalog.ids():
        try:
            wanted.update(tracker.catalog.get(cid).packages)
        except MltrackError:
            pass
    missing = sorted(p for p in wanted if importlib.util.find_spec(p) is None)
    if missing:
        return Check("packages", False, "missing: " + ", ".join(missing)
                     + " (pip install -c constraints.txt -e .)")
    return Check("packages", True, f"{len(wanted)} importable")


def _database(tracker) -> Check:
    from tracker.store.health import damage, damaged_message

    path = tracker.ws.db_path
    if gitops.conflicted(tracker.ws.root, path):
        return Check("progress.db", False, "a git merge left it conflicted: `mltrack doctor "
                     "--fix` merges both sides' records (then `git commit`)")
    if not path.exists():
        return Check("progress.db", True, "not created yet (the first grade creates it)")
    problem = damage(path)
    if problem:
        return Check("progress.db", False, damaged_message(path, problem))
    try:
        # read-write, though it writes nothing: closing it removes the WAL side files that
        # the read-only look in damage() leaves behind
        with closing(sqlite3.connect(path, timeout=15)) as raw:
            version = raw.execute("PRAGMA user_version").fetchone()[0]
            result = raw.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        return Check("progress.db", False, damaged_message(path, f"SQLite: {exc}"))
    if result != "ok":
        return Check("progress.db", False, damaged_message(path, f"integrity check: {result}"))
    return Check("progress.db", True, f"schema v{version}, integrity ok")


def _drivers(tracker) -> Check:
    if gitops.why_not(tracker.ws.root) == "not a git repository":
        return Check("git drivers", True, "no repository: nothing to set up")
    missing = gitops.drivers_missing(tracker.ws.root)
    if missing:
        return Check("git drivers", False, "progress.db cannot be merged or diffed by git "
                     f"(missing: {'; '.join(missing)}): run `mltrack doctor --fix`",
                     warning=True)
    return Check("git drivers", True, "git merges progress.db by its records and diffs it as "
                 "text")


# ---- --fix ---------------------------------------------------------------------------


def fix(tracker) -> list[str]:
    """Repair what can be repaired without a decision from the learner; what was done, one
    line each. Never deletes a record: a damaged file is moved aside, not over-written."""
    done = []
    root, path = tracker.ws.root, tracker.ws.db_path
    if gitops.install_config(root):
        done.append("set up git's merge and diff drivers for progress.db (git config)")
    attributes = gitops.install_attributes(root)
    if attributes:
        done.append(f"added the drivers to {attributes.name}: commit it so that every clone "
                    "uses them")
    if gitops.conflicted(root, path):
        done.append(_merge_conflict(root, path))
    else:
        from tracker.store.health import damage

        if path.exists() and damage(path):
            done.append(rebuild(path))
    return done


def _merge_conflict(root, path) -> str:
    import tempfile
    from pathlib import Path

    from tracker.store.merge import merge_files

    with tempfile.TemporaryDirectory(prefix="mltrack-merge-") as tmp:
        ours, theirs = Path(tmp) / "ours.db", Path(tmp) / "theirs.db"
        gitops.stage_to(root, path, 2, ours)
        gitops.stage_to(root, path, 3, theirs)
        merged = merge_files(ours, theirs, ours)
        aside = _aside(path, "conflicted")
        ours.replace(path)
    gitops.mark_resolved(root, path)
    return (f"merged the conflicted progress.db ({merged.count('attempt')} attempts from both "
            f"sides; the conflicted file is kept as {aside.name}); finish with `git commit`")


def rebuild(path) -> str:
    """Move a damaged database aside and write a new one from the records still readable."""
    from tracker.store.merge import read, write

    aside = _aside(path, "damaged")
    found = read(aside, tolerant=True)
    write(found, path)
    lost = f"; could not read: {'; '.join(found.lost)}" if found.lost else ""
    return (f"rebuilt progress.db from what was readable ({found.count('attempt')} attempts, "
            f"{found.count('note')} notes, {found.count('hintuse')} hints); the damaged file "
            f"is kept as {aside.name}{lost}")


def _aside(path, why: str):
    from datetime import datetime

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.{why}-{stamp}")
    path.replace(aside)
    for suffix in ("-wal", "-shm"):  # a WAL belongs to the file it was written for
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.replace(aside.with_name(aside.name + suffix))
    return aside


def _git(tracker) -> Check:
    reason = gitops.why_not(tracker.ws.root)
    if reason:
        return Check("git", False, f"grades will not be committed: {reason}", warning=True)
    return Check("git", True, "grades are committed after each grade")


def _sandbox() -> Check:
    """Which sandbox grading children run in here, and why (a warning: grading still works
    without it, as it always has, but the solution can then reach the network and files)."""
    from graders import cgroup, sandbox

    mode = sandbox.detect()
    return Check("sandbox", mode.sandboxed, f"{mode.describe()}; {cgroup.detect().describe()}",
                 warning=not mode.sandboxed)


def _hardware(tracker) -> Check:
    try:
        from hardware.detect import this_machine

        return Check("hardware", True, this_machine(tracker.ws.root).summary())
    except Exception as exc:  # detection must never stop the doctor
        return Check("hardware", False, f"detection failed: {exc}", warning=True)

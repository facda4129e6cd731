"""`mltrack doctor`: is this machine and this course ready to grade? Each check says what is
wrong and what to do; nothing here imports the heavy libraries it checks for."""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
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
    checks.append(_hardware(tracker))
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
    path = tracker.ws.db_path
    if not path.exists():
        return Check("progress.db", True, "not created yet (the first grade creates it)")
    try:
        version = tracker.store.schema_version()
        with sqlite3.connect(path) as raw:
            result = raw.execute("PRAGMA integrity_check").fetchone()[0]
    except (MltrackError, sqlite3.DatabaseError) as exc:
        return Check("progress.db", False, str(exc))
    return Check("progress.db", result == "ok", f"schema v{version}, integrity {result}")


def _git(tracker) -> Check:
    reason = gitops.why_not(tracker.ws.root)
    if reason:
        return Check("git", False, f"grades will not be committed: {reason}", warning=True)
    return Check("git", True, "grades are committed after each grade")


def _hardware(tracker) -> Check:
    try:
        from hardware.detect import this_machine

        return Check("hardware", True, this_machine(tracker.ws.root).summary())
    except Exception as exc:  # detection must never stop the doctor
        return Check("hardware", False, f"detection failed: {exc}", warning=True)

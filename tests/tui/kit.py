"""What the TUI tests share: the fixture course in a fresh git repository, a fixed clock and
hardware profile, and ways to wait until the app has done its work."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from graders.results import BenchResult, CaseResult, GradeResult, Metric, Outcome, Verdict
from tracker.engine import Tracker
from tracker.tui.app import MltrackApp
from tracker.workspace import Workspace

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
SIZE = (100, 30)

SECOND_PLAN = """
id = "sprint"
title = "Two-day sprint"
description = "A second plan over the same challenges, for the plan switcher."

[[phases]]
number = 1
title = "Sprint"

[[phases.days]]
day = 1
title = "Only a GPU can check"
challenge = "gpu-only"

[[phases.days]]
day = 2
title = "Add two numbers"
challenge = "add"
"""

MACHINE = {  # a fixed hardware profile, as hardware.detect.snapshot() returns it
    "summary": "x86-cpu: Example CPU, 8 threads, 32 GiB",
    "class": {"id": "x86-cpu", "title": "x86-64 CPU"},
    "classes": ["x86-cpu"],
    "features": ["cpu", "x86"],
    "fingerprint": "0123456789abcdef",
    "cpu": {"model": "Example CPU", "arch": "x86_64", "logical_cores": 8},
    "nvml": {"status": "no-library", "message": "no NVIDIA driver", "gpus": []},
}


CALIBRATION = {"compute_gflops": 41.5, "memory_gbps": 12.25, "score": 1.3, "seconds": 1.0}


def hardware_report(_tracker: Tracker, calibrate: bool) -> dict:
    """A fixed machine, as tracker.benchmarks.hardware_report reports it; calibrated only
    when asked to."""
    return {"machine": dict(MACHINE), "calibration": dict(CALIBRATION) if calibrate else None,
            "calibrated_at": NOW.isoformat() if calibrate else None}


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                          text=True).stdout.strip()


def make_course(root: Path, *, second_plan: bool = False) -> Workspace:
    shutil.copytree(FIXTURES / "course", root, ignore=shutil.ignore_patterns("__pycache__"))
    if second_plan:
        (root / "challenges" / "plans" / "sprint.toml").write_text(SECOND_PLAN, encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Learner")
    git(root, "config", "user.email", "learner@example.com")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "course")
    return Workspace(root)


class Clock:
    """A clock that stands still unless moved (attempt times and the streak use it)."""

    def __init__(self, now: datetime = NOW):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def settle(pilot, timeout: float = 60.0) -> None:
    """Wait until every worker (reads, grades, and the reads those trigger) is done."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    await pilot.pause()
    while not all(w.is_finished for w in app.workers):
        if time.monotonic() > deadline:
            raise TimeoutError(f"workers still running: {list(app.workers)}")
        await pilot.pause(0.02)
    await pilot.pause()


async def wait_until(pilot, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await pilot.pause(0.05)


def record(tracker: Tracker, challenge: str, day: int, verdict: Verdict,
           cases: list[tuple[str, Outcome, str]], *, metrics: list[Metric] = (),
           benches: list[BenchResult] = (), message: str = "") -> None:
    """Store an attempt as a grade would (fixed durations), for screens that show history."""
    result = GradeResult(
        challenge, verdict, message or f"{verdict}",
        cases=[CaseResult(f"test_{challenge}.py::{name}", outcome, 0.01, msg,
                          details=f"assert {msg}" if msg else "") for name, outcome, msg in cases],
        metrics=list(metrics), benches=list(benches), duration_s=1.25,
    )
    tracker.store.record_attempt(plan=tracker.plan.id, day=day, result=result,
                                 solution_hash="0" * 64, source="cli",
                                 started_at=tracker.now())


def bench(name: str, value: float, unit: str, *, target: str = "", verdict: str = "",
          low: float | None = None, high: float | None = None) -> BenchResult:
    """A benchmark result as graders.bench reports it, on the fixed machine."""
    return BenchResult(f"test_add.py::test_{name}", name, "compare" if unit == "x" else "measure",
                       value, unit, low, high, target, verdict, fingerprint=MACHINE["fingerprint"],
                       hw_class="x86-cpu")


def plan_rows(app: MltrackApp) -> list[str]:
    """The plan list as plain lines (headings and days), as drawn."""
    from tracker.tui.widgets.plan_list import PlanList

    listing = app.screen.query_one(PlanList)
    return [str(option.prompt) if not hasattr(option.prompt, "plain") else option.prompt.plain
            for option in listing.options]


def screen_text(app: MltrackApp) -> str:
    """The screen as plain text, as a terminal would show it."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False)
    console.print(app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens))
    return console.export_text()

"""Progress figures derived from the plan and the record: statuses, streaks, completion."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from tracker.plan import Plan, PlanDay

if TYPE_CHECKING:  # importing the store pulls in sqlmodel (~0.4 s): not for reading a plan
    from tracker.store.models import DayState

# Display order and meaning of every status a plan row can have.
STATUSES = {
    "not-started": "not started",
    "in-progress": "in progress",
    "passed": "passed",
    "failed": "failed",
    "skipped-hw": "hardware checks skipped",
    "inconclusive": "inconclusive (re-run)",
    "planned": "no grader yet",
    "rest": "rest day",
    "buffer": "buffer",
}


@dataclass(frozen=True)
class DayRow:
    """One plan row with the learner's standing on it."""

    day: PlanDay
    status: str
    attempts: int = 0
    hints_used: int = 0

    def to_dict(self) -> dict:
        d = self.day
        return {
            "day": d.day, "until": d.until, "id": d.label, "title": d.title, "phase": d.phase,
            "kind": d.kind, "challenge": d.challenge, "status": self.status,
            "attempts": self.attempts,
        }


def status_of(day: PlanDay, state: DayState | None, started: bool) -> str:
    if day.kind in ("rest", "buffer"):
        return day.kind
    if day.challenge is None:
        return "planned"
    if state is not None and state.status != "not-started":
        return state.status
    return "in-progress" if started else "not-started"


def streak(dates: Iterable[date], today: date) -> int:
    """Consecutive days with activity ending today (or yesterday, if today has none yet)."""
    active = set(dates)
    day = today if today in active else today - timedelta(days=1)
    count = 0
    while day in active:
        count += 1
        day -= timedelta(days=1)
    return count


def completion(rows: list[DayRow]) -> tuple[int, int]:
    """(passed, gradable) over challenge days that have a grader."""
    gradable = [r for r in rows if r.day.gradable]
    return sum(r.status == "passed" for r in gradable), len(gradable)


def next_day(plan: Plan, rows: list[DayRow]) -> DayRow | None:
    """The day to do next: the first gradable day not yet passed."""
    for row in rows:
        if row.day.gradable and row.status not in ("passed", "skipped-hw"):
            return row
    return None

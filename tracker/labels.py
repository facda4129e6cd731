"""How plan rows and phases are named on screen (CLI, TUI, report).

The curriculum numbers its calendar (phases of 30 days, "Capstone 1 (Day 60)"), but the
plan's rows run their own numbers once rest and buffer days are placed: the phases show
the rows they really hold, and the curriculum's label stays as secondary text where it
differs.
"""

from __future__ import annotations

import re

from tracker.plan import Phase, PlanDay

_CALENDAR_DAY = re.compile(r"\s*\(Day (\d+)\)")


def span(first: int, last: int) -> str:
    return f"day {first}" if first == last else f"days {first}–{last}"


def phase_span(phase: Phase) -> str:
    """The rows the phase holds: `days 61–86`."""
    if not phase.days:
        return ""
    return span(phase.days[0].day, max(d.until or d.day for d in phase.days))


def phase_secondary(phase: Phase) -> str:
    """The curriculum's own label (`Days 61–90`) when it names other rows; else ''."""
    if not phase.label:
        return ""
    return "" if phase.label.lower() == phase_span(phase).lower() else phase.label


def phase_heading(phase: Phase) -> str:
    """`Phase 3 · Inference & Hardware-Aware ML · days 61–86 (curriculum: Days 61–90)`."""
    other = phase_secondary(phase)
    text = f"Phase {phase.number} · {phase.title} · {phase_span(phase)}"
    return text + (f" (curriculum: {other})" if other else "")


def day_title(day: PlanDay) -> tuple[str, str]:
    """(title, secondary): a calendar day in the title that is not the row's own number
    moves to the secondary text (`Capstone 1: Build ...`, `curriculum day 60`)."""
    match = _CALENDAR_DAY.search(day.title)
    if match is None or int(match.group(1)) == day.day:
        return day.title, ""
    return (day.title[:match.start()] + day.title[match.end():],
            f"curriculum day {match.group(1)}")


def attempts(count: int) -> str:
    """`1 attempt`, `13 attempts`; '' for none."""
    return "" if not count else f"{count} attempt" + ("" if count == 1 else "s")

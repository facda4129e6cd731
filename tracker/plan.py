"""Plans as data: an ordered list of days in phases, each a challenge, a rest day or a buffer.

A plan file (`challenges/plans/<id>.toml`) never holds challenge content, only which
challenge a day points at; several plans may share one challenge library.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from tracker.errors import ContractError, NotGradable, UnknownDay
from tracker.tomlfile import Fields, read_toml

KINDS = ("challenge", "rest", "buffer")
# `53`, `day53`, `day053`, `Day 53`; not `-3` nor `day-3` (a negative day is a typo)
_DAY_ID = re.compile(r"^\s*(?:day\s*)?0*(\d{1,4})\s*$", re.IGNORECASE)
_CHALLENGE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class PlanDay:
    """One row of a plan. `challenge` is None for rest/buffer days and not-yet-built days."""

    day: int
    title: str
    phase: int
    kind: str = "challenge"
    until: int | None = None  # last day of a range (the buffer 136–150)
    challenge: str | None = None

    @property
    def label(self) -> str:
        """`day53`, or `day136-150` for a range."""
        return f"day{self.day}" + (f"-{self.until}" if self.until else "")

    @property
    def gradable(self) -> bool:
        return self.kind == "challenge" and self.challenge is not None

    def covers(self, number: int) -> bool:
        return self.day <= number <= (self.until or self.day)


@dataclass(frozen=True)
class Phase:
    number: int
    title: str
    label: str = ""
    days: tuple[PlanDay, ...] = ()


@dataclass(frozen=True)
class Plan:
    id: str
    title: str
    description: str
    phases: tuple[Phase, ...]
    path: Path | None = None
    days: tuple[PlanDay, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", tuple(d for p in self.phases for d in p.days))

    def phase(self, number: int) -> Phase:
        return next(p for p in self.phases if p.number == number)

    def challenge_days(self) -> list[PlanDay]:
        return [d for d in self.days if d.gradable]

    def resolve(self, text: str) -> PlanDay:
        """The plan row for a day id: `53`, `day53`, `day053`, `Day 53` or a challenge id.

        Raises UnknownDay (with the closest ids) or NotGradable for rest/buffer/unbuilt days.
        """
        day = self.lookup(text)
        if day.kind == "rest":
            raise NotGradable(f"day {day.day} of {self.id} is a rest day: nothing to grade")
        if day.kind == "buffer":
            number = parse_day_number(text)
            span = f"{day.day}–{day.until}"
            what = (f"day {number} of {self.id} is a buffer day ({span})" if number is not None
                    else f"days {span} of {self.id} are buffer days")
            raise NotGradable(f"{what}: catch up on an earlier day")
        if day.challenge is None:
            raise NotGradable(f"day {day.day} of {self.id} ({day.title}) has no grader yet")
        return day

    def lookup(self, text: str) -> PlanDay:
        """Like `resolve`, but returns rest and buffer days instead of refusing them."""
        number = parse_day_number(text)
        if number is not None:
            for day in self.days:
                if day.covers(number):
                    return day
        else:
            wanted = text.strip().lower()
            for day in self.days:  # a challenge id, or a label as mltrack prints it
                if wanted in (day.challenge, day.label.lower()):
                    return day
        raise UnknownDay(self._unknown_message(text, number))

    def _unknown_message(self, text: str, number: int | None) -> str:
        first, last = self.days[0].day, max(d.until or d.day for d in self.days)
        span = f"plan {self.id} has days {first}–{last}"
        if number is not None:
            near = sorted(self.days, key=lambda d: abs(d.day - number))[:3]
            closest = [d.label for d in sorted(near, key=lambda d: d.day)]
        else:
            names = [d.label for d in self.days] + [d.challenge for d in self.days if d.challenge]
            closest = difflib.get_close_matches(text.strip().lower(), names, n=3, cutoff=0.6)
        if closest:
            return f"unknown day {text!r}: {span}; closest: {', '.join(closest)}"
        return f"unknown day {text!r}: {span}; write a day as day53, 53 or day053"


def parse_day_number(text: str) -> int | None:
    """`53`, `day53`, `day053`, `Day 53` → 53; anything else → None."""
    match = _DAY_ID.match(text)
    return int(match.group(1)) if match else None


def load_plan(path: Path) -> Plan:
    """Read and validate one plan file; errors name the file and the field."""
    top = Fields(read_toml(path), path)
    plan_id = top.str("id")
    if not _CHALLENGE_ID.match(plan_id):
        raise top.fail("id", f"must be lower-case letters, digits, '-' or '_' (got {plan_id!r})")
    title = top.str("title")
    description = top.str("description", "")
    phases = []
    for pf in top.tables("phases", required=True):
        number = pf.int("number", minimum=1)
        days = []
        for df in pf.tables("days", required=True):
            days.append(_load_day(df, number))
            df.done()
        phases.append(Phase(number, pf.str("title"), pf.str("label", ""), tuple(days)))
        pf.done()
    top.done()
    if not phases:
        raise top.fail("phases", "must list at least one phase")
    plan = Plan(plan_id, title, description, tuple(phases), path)
    _check_order(plan, path)
    return plan


def _load_day(df: Fields, phase: int) -> PlanDay:
    kind = df.str("kind", "challenge")
    if kind not in KINDS:
        raise df.fail("kind", f"must be one of {', '.join(KINDS)} (got {kind!r})")
    day = df.int("day", minimum=1)
    until = df.int("until", None, minimum=day + 1)
    if until is not None and kind != "buffer":
        raise df.fail("until", "is only allowed on buffer days")
    challenge = df.str("challenge", None)
    if challenge is not None:
        if kind != "challenge":
            raise df.fail("challenge", f"is not allowed on a {kind} day")
        if not _CHALLENGE_ID.match(challenge):
            raise df.fail("challenge", f"must be a challenge folder name (got {challenge!r})")
    return PlanDay(day, df.str("title"), phase, kind, until, challenge)


def _check_order(plan: Plan, path: Path) -> None:
    expected = plan.days[0].day
    seen: set[str] = set()
    for day in plan.days:
        if day.day != expected:
            raise ContractError(
                f"{path}: day {day.day} is out of sequence (expected day {expected})"
            )
        expected = (day.until or day.day) + 1
        if day.challenge:
            if day.challenge in seen:
                raise ContractError(f"{path}: challenge '{day.challenge}' is listed twice")
            seen.add(day.challenge)

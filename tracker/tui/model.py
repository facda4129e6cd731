"""What the TUI shows, read from the engine: the plan with the learner's standing on it, one
day in detail, and the plan filter.

No textual here (Rich text only, for the shared marks), and no grading, database or git
logic of its own: every figure comes from `Tracker`, `tracker.progress` and the store.
The read_* functions run in worker threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from rich.text import Text

from tracker.engine import Target, Tracker
from tracker.errors import MltrackError
from tracker.plan import Phase, Plan, PlanDay, parse_day_number
from tracker.progress import DayRow, completion, next_day, status_of, streak

# Every status a plan row can have: (glyph, short label, Rich style).
STATUS_LOOK: dict[str, tuple[str, str, str]] = {
    "not-started": ("○", "not started", ""),
    "in-progress": ("●", "in progress", "cyan"),
    "passed": ("✓", "passed", "green"),
    "failed": ("✗", "failed", "red"),
    "skipped-hw": ("⊘", "skipped (hw)", "yellow"),
    "inconclusive": ("?", "inconclusive", "yellow"),
    "planned": ("·", "no grader yet", "dim"),
    "rest": ("~", "rest day", "blue"),
    "buffer": ("+", "buffer", "blue"),
}
UNKNOWN_LOOK = ("…", "", "dim")  # a gradable day before the record has been read

# Words the filter understands after `is:` besides the statuses' own names.
STATUS_ALIASES: dict[str, tuple[str, ...]] = {
    "todo": ("not-started", "in-progress", "failed", "inconclusive"),
    "done": ("passed",),
    "skipped": ("skipped-hw",),
    "hw": ("skipped-hw",),
    "started": ("in-progress",),
}

VERDICT_STYLE = {
    "passed": "green", "failed": "red", "error": "red", "timeout": "red", "crashed": "red",
    "inconclusive": "yellow", "skipped": "yellow",
}
OUTCOME_LOOK = {  # per-check marks
    "passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("!", "red"),
    "skipped": ("-", "yellow"), "inconclusive": ("?", "yellow"), "not-run": ("·", "dim"),
}


def look(status: str | None) -> tuple[str, str, str]:
    return STATUS_LOOK.get(status, UNKNOWN_LOOK) if status else UNKNOWN_LOOK


# ---- the plan and the record ----------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """A plan with the learner's record on it. `rows` is None until the record is read
    (the first frame is drawn from the plan file alone)."""

    plan: Plan
    rows: tuple[DayRow, ...] | None = None
    streak: int = 0
    done: frozenset[int] = frozenset()  # days without a grader the learner marked done
    problem: str | None = None  # why the record cannot be read (a damaged progress.db)

    @property
    def loaded(self) -> bool:
        return self.rows is not None

    def status(self, day: PlanDay) -> str | None:
        """The day's status, or None while the record is unread and the plan cannot tell."""
        if self.rows is not None:
            return self._by_day()[day.day].status
        if not day.gradable:
            return status_of(day, None, started=False)  # rest, buffer, no grader yet
        return None

    def row(self, day: PlanDay) -> DayRow | None:
        return self._by_day().get(day.day) if self.rows is not None else None

    def overall(self) -> tuple[int | None, int]:
        """(passed or None while unread, gradable days)."""
        if self.rows is None:
            return None, len(self.plan.challenge_days())
        return completion(list(self.rows))

    def phase_progress(self, phase: Phase) -> tuple[int | None, int]:
        gradable = [d for d in phase.days if d.gradable]
        if self.rows is None:
            return None, len(gradable)
        return sum(self.status(d) == "passed" for d in gradable), len(gradable)

    def next(self) -> DayRow | None:
        return next_day(self.plan, list(self.rows)) if self.rows is not None else None

    def _by_day(self) -> dict[int, DayRow]:
        cache = self.__dict__.get("_index")
        if cache is None:
            cache = {r.day.day: r for r in self.rows or ()}
            object.__setattr__(self, "_index", cache)
        return cache


def read_standing(tracker: Tracker) -> Standing:
    """The active plan with every row's status and the streak (opens the store)."""
    plan = tracker.plan
    rows = tuple(tracker.rows(plan))
    days = streak(tracker.store.activity_dates(), tracker.now().date())
    return Standing(plan, rows, days, frozenset(tracker.store.days_done(plan.id)))


class Tags:
    """Challenge tags for the filter, read from challenge.toml once per challenge."""

    def __init__(self, tracker: Tracker):
        self._tracker = tracker
        self._cache: dict[str, tuple[str, ...]] = {}

    def of(self, day: PlanDay) -> tuple[str, ...]:
        if day.challenge is None:
            return ()
        if day.challenge not in self._cache:
            try:
                tags = self._tracker.catalog.get(day.challenge).tags
            except MltrackError:  # a broken challenge shows up when opened; here: no tags
                tags = ()
            self._cache[day.challenge] = tuple(tags)
        return self._cache[day.challenge]


# ---- the filter ----------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """The plan filter: words match the title, a tag or the status; `#tag` or `tag:x` only
    tags, `is:x` only statuses (also is:todo, is:done), `53` or `day53` one day."""

    words: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    days: tuple[int, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Query:
        words, tags, statuses, days = [], [], [], []
        for token in text.casefold().split():
            if token.startswith("#") and len(token) > 1:
                tags.append(token[1:])
            elif token.startswith("tag:") and len(token) > 4:
                tags.append(token[4:])
            elif token.startswith(("is:", "status:")):
                value = token.split(":", 1)[1]
                if value:
                    statuses.append(value)
            elif parse_day_number(token) is not None:
                days.append(parse_day_number(token))
            else:
                words.append(token)
        return cls(tuple(words), tuple(tags), tuple(statuses), tuple(days))

    def __bool__(self) -> bool:
        return bool(self.words or self.tags or self.statuses or self.days)

    def unknown_statuses(self) -> list[str]:
        """The `is:` words that name no status (`is:foo`): they match nothing, so say so."""
        return [want for want in self.statuses
                if want not in STATUS_ALIASES and not any(
                    status.startswith(want) or label.startswith(want)
                    for status, (_glyph, label, _style) in STATUS_LOOK.items())]

    def matches(self, day: PlanDay, status: str | None, tags: tuple[str, ...]) -> bool:
        folded = tuple(t.casefold() for t in tags)
        if self.days and not any(day.covers(n) for n in self.days):
            return False
        if not all(any(t.startswith(want) for t in folded) for want in self.tags):
            return False
        if not all(_status_is(status, want) for want in self.statuses):
            return False
        title = day.title.casefold()
        return all(
            word in title or any(word in t for t in folded) or _status_is(status, word)
            or word == (day.challenge or "")
            for word in self.words
        )


def _status_is(status: str | None, want: str) -> bool:
    if status is None:
        return False
    if status in STATUS_ALIASES.get(want, ()):
        return True
    label = STATUS_LOOK.get(status, UNKNOWN_LOOK)[1]
    return status.startswith(want) or label.startswith(want)


# ---- one day -------------------------------------------------------------------------


@dataclass(frozen=True)
class DayDetail:
    """One day as the day screen shows it; attempts newest first, checks and metrics of the
    latest attempt."""

    target: Target
    status: str
    solution: Path
    started: bool
    spec: str
    attempts: tuple[Any, ...]
    cases: tuple[Any, ...]
    metrics: tuple[Any, ...]
    hints: tuple[str, ...]
    benches: tuple[dict[str, Any], ...] = ()  # benchmark summaries of the latest attempt

    @property
    def label(self) -> str:
        return self.target.day.label

    @property
    def hints_total(self) -> int:
        return len(self.target.challenge.hints)

    @property
    def latest(self) -> Any | None:
        return self.attempts[0] if self.attempts else None


def read_day(tracker: Tracker, label: str) -> DayDetail:
    target = tracker.resolve(label)
    ch = target.challenge
    folder = tracker.solution_dir(ch)
    store = tracker.store
    status = status_of(target.day, store.state(ch.id), folder.is_dir())
    attempts = tuple(store.attempts(ch.id))
    latest = attempts[0] if attempts else None
    cases = tuple(store.cases(latest.id)) if latest else ()
    metrics = tuple(store.metrics(latest.id)) if latest else ()
    return DayDetail(
        target=target, status=status, solution=folder / ch.solution_file,
        started=folder.is_dir(), spec=ch.spec(), attempts=attempts, cases=cases,
        metrics=metrics, hints=tuple(tracker.hints_shown(label)),
        benches=_benches(store, latest.id) if latest else (),
    )


def _benches(store, attempt_id: int) -> tuple[dict[str, Any], ...]:
    """The attempt's benchmark records (statistics, target, verdict, machine), oldest first,
    each with `previous`: the same benchmark's value in the attempt before, on the same
    machine (like with like), or None."""
    from tracker.store.benchstore import bench_records, bench_summary

    found = []
    for row in reversed(bench_records(store, attempt_id=attempt_id)):
        earlier = [r for r in bench_records(store, challenge=row.challenge,
                                            fingerprint=row.fingerprint)
                   if r.name == row.name and r.attempt_id < row.attempt_id]
        found.append({**bench_summary(row), "previous": earlier[0].value if earlier else None})
    return tuple(found)


# ---- formatting ----------------------------------------------------------------------


def when(stamp: datetime | None, tz: tzinfo | None) -> str:
    """A stored (UTC) time in the learner's zone: 2026-03-14 09:30."""
    if stamp is None:
        return "—"
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def bar(done: int | None, total: int, width: int = 12) -> Text:
    """A text progress bar: ━━━━────────, the done part in green."""
    filled = 0 if total <= 0 or done is None else round(width * done / total)
    return Text.assemble(("━" * filled, "green"), ("─" * (width - filled), "dim"))

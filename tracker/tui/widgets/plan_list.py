"""The plan as a list: phase headings (with the phase's progress) and one row per day."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tracker import labels
from tracker.plan import Phase, PlanDay
from tracker.tui.model import Query, Standing, Tags, bar, look

STATUS_WIDTH = 15  # fits "⊘ skipped (hw)"
ATTEMPTS_WIDTH = 12  # fits "99 attempts"


def _day_prompt(day: PlanDay, standing: Standing) -> Text:
    """One line: number, status, attempts, title. Plain Text: the list draws 150 rows on
    the first frame, and a Text prompt costs a fraction of a table's."""
    glyph, label, style = look(standing.status(day))
    if day.day in standing.done:  # a rest, buffer or reading day the learner marked done
        glyph, label, style = "✓", "done", "green"
    row = standing.row(day)
    tries = labels.attempts(row.attempts) if row is not None else ""
    number = f"{day.day}–{day.until}" if day.until else str(day.day)
    dim = day.kind != "challenge" or day.challenge is None
    title, calendar = labels.day_title(day)
    status = f"{glyph} {label}"
    return Text.assemble((f"{number:>7}  ", "bold"), (f"{status:<{STATUS_WIDTH}}", style),
                         (f"{tries:<{ATTEMPTS_WIDTH}}", "dim"), (title, "dim" if dim else ""),
                         (f"  ({calendar})" if calendar else "", "dim"))


def _phase_prompt(phase: Phase, standing: Standing) -> Text:
    done, total = standing.phase_progress(phase)
    other = labels.phase_secondary(phase)
    text = Text.assemble((f"Phase {phase.number} · {phase.title}", "bold"),
                         (f" · {labels.phase_span(phase)}", "bold"),
                         (f"  (curriculum: {other})" if other else "", "dim"), "   ")
    if total:
        text.append(f"{'…' if done is None else done}/{total} ", style="bold")
        text.append_text(bar(done, total))
    else:
        text.append("no graded days yet", style="dim")
    return text


class PlanList(OptionList):
    """Days grouped by phase. Headings are disabled options, so the cursor skips them."""

    BINDINGS = [
        Binding("enter", "select", "Open"),
        Binding("j", "cursor_down", show=False),
        Binding("k", "cursor_up", show=False),
        Binding("G", "last", show=False),  # g grades, as on the day screen: home goes first
    ]

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self._days: dict[str, PlanDay] = {}

    def show(self, standing: Standing, tags: Tags, query: Query) -> int:
        """Draw `standing`, keeping only days that match `query`; returns how many match.
        The highlighted day stays highlighted when it is still listed."""
        keep = self.highlighted_day
        options: list[Option] = []
        days: dict[str, PlanDay] = {}
        for phase in standing.plan.phases:
            matching = [d for d in phase.days
                        if not query or query.matches(d, standing.status(d), tags.of(d))]
            if not matching:
                continue
            options.append(Option(_phase_prompt(phase, standing), id=f"phase-{phase.number}",
                                  disabled=True))
            for day in matching:
                key = f"day-{day.day}"
                days[key] = day
                options.append(Option(_day_prompt(day, standing), id=key))
        self._days = days
        self.set_options(options)
        if keep is not None and f"day-{keep.day}" in days:
            self.select_day(keep)
        else:
            self.action_first()
        return len(days)

    @property
    def highlighted_day(self) -> PlanDay | None:
        option = self.highlighted_option
        return self._days.get(option.id) if option is not None and option.id else None

    def select_day(self, day: PlanDay) -> bool:
        key = f"day-{day.day}"
        if key not in self._days:
            return False
        self.highlighted = self.get_option_index(key)
        return True

    def jump_phase(self, step: int) -> None:
        """Highlight the first day of the next (step 1) or previous (step -1) phase listed."""
        current = self.highlighted_day
        phases = sorted({d.phase for d in self._days.values()})
        if not phases:
            return
        if current is None:
            target = phases[0]
        else:
            at = phases.index(current.phase)
            if step < 0 and current != self._first_of(current.phase):
                step = 0  # back to the start of this phase first
            target = phases[max(0, min(len(phases) - 1, at + step))]
        self.select_day(self._first_of(target))
        self.scroll_to_highlight(top=True)
        self.scroll_to(y=max(0, self.scroll_y - 1), animate=False, immediate=True)  # heading

    def _first_of(self, phase: int) -> PlanDay:
        return min((d for d in self._days.values() if d.phase == phase), key=lambda d: d.day)

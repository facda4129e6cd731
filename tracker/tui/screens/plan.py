"""The plan: every day of the active plan by phase, with progress, streak and filter.

Drawn first from the plan file alone; statuses fill in when the app has read the record,
and the day to do next is then highlighted (unless the learner has already moved).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, OptionList

from tracker.tui.model import Query, Standing, relative
from tracker.tui.widgets.day_preview import DayPreview
from tracker.tui.widgets.filter_bar import FilterBar
from tracker.tui.widgets.plan_list import PlanList
from tracker.tui.widgets.summary_bar import SummaryBar

_PHASE = Binding.Group("Phase", compact=True)


class PlanScreen(Screen[None]):
    CSS_PATH = "plan.tcss"
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "start", "Start"),
        Binding("g", "grade", "Grade"),
        Binding("n", "next_day", "Next day"),
        Binding("left_square_bracket", "phase(-1)", "Previous phase", key_display="[",
                group=_PHASE),
        Binding("right_square_bracket", "phase(1)", "Next phase", key_display="]",
                group=_PHASE),
        Binding("r", "refresh", "Refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self._first_day = None  # highlighted on open; still there when the record arrives:
        self._placed = False  # the learner has not moved, so go to the day to do next

    def compose(self) -> ComposeResult:
        yield Header()
        yield SummaryBar(id="summary")
        yield FilterBar(id="filter", cursor_blink=self.app.settings.cursor_blink)
        yield PlanList(id="plan")
        yield DayPreview(id="preview")
        yield Footer()

    def on_mount(self) -> None:
        self.app.standing_changed.subscribe(self, self._standing_changed)
        self._draw(self.app.standing)
        self.query_one(PlanList).focus()

    @property
    def plan_list(self) -> PlanList:
        return self.query_one(PlanList)

    def _standing_changed(self, standing: Standing) -> None:
        self._draw(standing)

    def _draw(self, standing: Standing) -> None:
        self.query_one(SummaryBar).show(standing)
        query = Query.parse(self.query_text)
        shown = self.plan_list.show(standing, self.app.tags, query)
        self.query_one(FilterBar).set_class(bool(self.query_text), "-active")
        unknown = query.unknown_statuses()
        if unknown:
            self.plan_list.border_subtitle = (
                f"unknown status is:{unknown[0]}; try is:todo, is:done, is:failed, is:rest")
        else:
            self.plan_list.border_subtitle = (f"{shown} matching" if self.query_text else "")
        if self._first_day is None:
            self._first_day = self.plan_list.highlighted_day
        if standing.loaded and not self._placed:
            self._placed = True
            upcoming = standing.next()
            if upcoming is not None and self.plan_list.highlighted_day == self._first_day:
                self.plan_list.select_day(upcoming.day)
        self._preview()

    def _preview(self) -> None:
        day = self.plan_list.highlighted_day
        tags = self.app.tags.of(day) if day is not None else ()
        self.query_one(DayPreview).show(day, self.app.standing, tags)

    # ---- events ------------------------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#plan")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._preview()

    @on(OptionList.OptionSelected, "#plan")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._open()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self._draw(self.app.standing)

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        self.plan_list.focus()

    @on(FilterBar.Cleared)
    def _filter_cleared(self, event: FilterBar.Cleared) -> None:
        self.plan_list.focus()

    # ---- actions -----------------------------------------------------------------------

    def _open(self) -> None:
        day = self.plan_list.highlighted_day
        if day is not None:
            self.app.open_day(day)

    def action_start(self) -> None:
        """Copy the highlighted day's starter, as `s` does on the day screen."""
        day = self.plan_list.highlighted_day
        if day is None or not day.gradable:
            self.notify("nothing to start: this day has no grader", severity="warning")
            return
        tracker = self.app.tracker

        def started(result) -> None:
            target, path, created = result
            where = relative(path, tracker.ws.root)
            self.notify(f"started {target.day.label}: edit {where}" if created
                        else f"{target.day.label} is already started: your work is in {where}")
            self.app.reload()

        self.app.in_thread(lambda: tracker.start(day.label), started, group="start")

    def action_grade(self) -> None:
        """Open the highlighted day and grade it, as `g` does on the day screen."""
        day = self.plan_list.highlighted_day
        if day is None or not day.gradable:
            self.notify("nothing to grade: this day has no grader", severity="warning")
            return
        if not (self.app.tracker.ws.solutions_dir / day.challenge).is_dir():
            self.notify(f"{day.label} is not started: press s first", severity="warning")
            return
        from tracker.tui.screens.day import DayScreen

        self.app.push_screen(DayScreen(day, grade_on_open=True))

    def action_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.add_class("-active")
        bar.focus()

    def action_next_day(self) -> None:
        standing = self.app.standing
        upcoming = standing.next()
        if upcoming is None:
            self.notify("reading your record…" if not standing.loaded
                        else "every graded day is done")
            return
        if not self.plan_list.select_day(upcoming.day):
            self.query_one(FilterBar).value = ""  # filtered out: show everything again
            self.query_text = ""
            self._draw(standing)
            self.plan_list.select_day(upcoming.day)
        self.plan_list.focus()

    def action_phase(self, step: int) -> None:
        self.plan_list.jump_phase(step)
        self.plan_list.focus()

    def action_refresh(self) -> None:
        self.app.reload()

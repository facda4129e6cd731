"""One day: the spec, the verdict and per-check results, hints, the history of attempts.

Start, grade (in a worker, with live progress), watch (re-grade on save), reveal a hint.
The engine does the work; this screen asks the app to run it and draws the answers.
"""

from __future__ import annotations

import os
import shlex
import subprocess

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Markdown, TabbedContent, TabPane

from tracker.errors import MltrackError
from tracker.plan import PlanDay
from tracker.tui.grading import GradeRun
from tracker.tui.model import DayDetail, read_day, relative
from tracker.tui.widgets.attempt_table import AttemptTable
from tracker.tui.widgets.bench_table import BenchTable
from tracker.tui.widgets.case_detail import CaseDetail
from tracker.tui.widgets.case_table import CaseTable
from tracker.tui.widgets.day_header import DayHeader
from tracker.tui.widgets.grade_panel import GradePanel
from tracker.tui.widgets.hint_list import HintList
from tracker.tui.widgets.metric_table import MetricTable
from tracker.watch import snapshot

_TABS = Binding.Group("Tabs", compact=True)


class DayScreen(Screen[None]):
    CSS_PATH = "day.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", key_display="esc"),
        Binding("s", "start", "Start"),
        Binding("g", "grade", "Grade"),
        Binding("w", "watch", "Watch"),
        Binding("h", "hint", "Hint"),
        Binding("e", "edit", "Edit"),
        Binding("1", "tab('spec')", "Spec", group=_TABS),
        Binding("2", "tab('results')", "Results", group=_TABS),
        Binding("3", "tab('hints')", "Hints", group=_TABS),
        Binding("4", "tab('history')", "History", group=_TABS),
    ]

    def __init__(self, day: PlanDay):
        super().__init__()
        self.day = day
        self.detail: DayDetail | None = None
        self.watching = False
        self._watch_timer: Timer | None = None
        self._seen: object = None  # the solution folder at the last look (tracker.watch)
        self._saved = False  # it changed at the last look: grade once it is quiet
        self._regrade = False  # saved again while a grade was running

    @property
    def label(self) -> str:
        return self.day.label

    def compose(self) -> ComposeResult:
        yield Header()
        yield DayHeader(self.day.title, id="day-head")
        with TabbedContent(initial="spec", id="tabs"):
            with TabPane("Spec", id="spec"), VerticalScroll(id="spec-scroll"):
                yield Markdown(self._spec(), id="spec-text", open_links=False)
            with TabPane("Results", id="results"), VerticalScroll(id="results-scroll"):
                yield GradePanel(id="grade")
                yield CaseTable(id="cases")
                yield CaseDetail(id="case-detail")
                yield BenchTable(id="benches")
                yield MetricTable(id="metrics")
            with TabPane("Hints", id="hints"), VerticalScroll(id="hints-scroll"):
                yield HintList(id="hint-list")
            with TabPane("History", id="history"):
                yield AttemptTable(id="attempts")
        yield Footer()

    def _spec(self) -> str:
        """The spec from the challenge folder (no store needed: shown at once)."""
        try:
            return self.app.tracker.catalog.get(self.day.challenge).spec()
        except (MltrackError, OSError) as exc:
            return f"**The spec cannot be read:** {exc}"

    def on_mount(self) -> None:
        self.sub_title = f"{self.label} · {self.day.title}"
        self.app.grade_changed.subscribe(self, self._grade_changed)
        self.app.standing_changed.subscribe(self, lambda _standing: self.reload())
        self.query_one("#spec-scroll").focus()  # arrows and page keys scroll the spec
        self.reload()

    def on_unmount(self) -> None:
        self._stop_watching()

    # ---- data --------------------------------------------------------------------------

    def reload(self) -> None:
        tracker = self.app.tracker
        self.app.in_thread(lambda: read_day(tracker, self.label), self._show,
                           group=f"day-{self.day.day}", exclusive=True)

    def _show(self, detail: DayDetail) -> None:
        self.detail = detail
        tz = self.app.settings.timezone
        self._header()
        run = self.app.grading
        if run is not None and run.label == self.label and not run.finished:
            self._grade_changed(run)  # a grade of this day is running: keep showing it
        else:
            self.query_one(GradePanel).show_latest(detail, tz)
            self.query_one(CaseTable).show_records(detail.cases)
            self._show_case()
        self.query_one(BenchTable).show(detail.benches)
        self.query_one(MetricTable).show(detail.metrics)
        self.query_one(HintList).show(detail.hints, detail.hints_total)
        self.query_one(AttemptTable).show(detail.attempts, tz)
        tabs = self.query_one(TabbedContent)
        tabs.get_tab("hints").label = f"Hints {len(detail.hints)}/{detail.hints_total}"
        tabs.get_tab("history").label = f"History {len(detail.attempts)}"

    def _header(self) -> None:
        if self.detail is not None:
            self.query_one(DayHeader).show(self.detail, self.app.tracker.ws.root,
                                           watching=self.watching)

    def _show_case(self) -> None:
        self.query_one(CaseDetail).show(self.query_one(CaseTable).highlighted_case())

    @on(DataTable.RowHighlighted, "#cases")
    def _case_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_case()

    # ---- grading -----------------------------------------------------------------------

    def _grade_changed(self, run: GradeRun) -> None:
        if run.label != self.label:
            return
        self.query_one(GradePanel).show_run(run)
        if run.nodeids or run.cases:
            self.query_one(CaseTable).show_run(run)
            self._show_case()
        if run.finished:
            self.reload()
            if self._regrade and self.watching:
                self._regrade = False
                self.call_later(self._grade_now)

    def _grade_now(self) -> GradeRun | None:
        if self.day.challenge is None:
            return None
        run = self.app.grade(self.label, self.day.challenge)
        if run is not None:
            self.query_one(TabbedContent).active = "results"
        return run

    # ---- actions -----------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    @on(TabbedContent.TabActivated, "#tabs")
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        """Keys go to what the tab shows: the spec scrolls, the tables move their cursor."""
        target = {"spec": "#spec-scroll", "results": "#cases", "hints": "#hints-scroll",
                  "history": "#attempts"}.get(event.pane.id or "")
        if target:
            self.query_one(target).focus()

    def action_start(self) -> None:
        tracker, root = self.app.tracker, self.app.tracker.ws.root

        def started(result) -> None:
            target, path, created = result
            where = relative(path, root)
            self.notify(f"started {target.day.label}: edit {where}" if created
                        else f"{target.day.label} is already started: your work is in {where}")
            self.reload()
            self.app.reload()

        self.app.in_thread(lambda: tracker.start(self.label), started, group="start")

    def action_grade(self) -> None:
        if self.detail is not None and not self.detail.started:
            self.notify(f"{self.label} is not started: press s first", severity="warning")
            return
        self._grade_now()

    def action_watch(self) -> None:
        if self.watching:
            self._stop_watching()
            self.notify("watch mode off")
        elif self.detail is None or not self.detail.started:
            self.notify(f"{self.label} is not started: press s first", severity="warning")
            return
        else:
            self._seen = snapshot(self.detail.solution.parent)
            self._saved = False
            self._watch_timer = self.set_interval(self.app.settings.watch_interval_s,
                                                  self._look_for_save)
            self.watching = True
            self.notify(f"watching {relative(self.detail.solution, self.app.tracker.ws.root)}: "
                        "every save re-grades")
        self._header()

    def _stop_watching(self) -> None:
        if self._watch_timer is not None:
            self._watch_timer.stop()
            self._watch_timer = None
        self.watching = False
        self._regrade = False

    def _look_for_save(self) -> None:
        """Grade once a change has been quiet for one look (editors save in steps)."""
        if self.detail is None:
            return
        now = snapshot(self.detail.solution.parent)
        if now != self._seen:
            self._seen, self._saved = now, True
            return
        if not self._saved:
            return
        self._saved = False
        run = self.app.grading
        if run is not None and not run.finished:
            self._regrade = True  # grade again once this one is done
        else:
            self._grade_now()

    def action_hint(self) -> None:
        tracker = self.app.tracker

        def shown(hint) -> None:
            if hint.new:
                self.notify(f"hint {hint.number}/{hint.total}: {hint.text}", timeout=6)
            else:
                self.notify(f"all {hint.total} hints are shown", severity="warning")
            self.query_one(TabbedContent).active = "hints"
            self.reload()

        self.app.in_thread(lambda: tracker.hint(self.label), shown, group="hint")

    def action_edit(self) -> None:
        """Open the solution in $VISUAL or $EDITOR (the TUI steps aside meanwhile)."""
        if self.detail is None or not self.detail.started:
            self.notify(f"{self.label} is not started: press s first", severity="warning")
            return
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        where = relative(self.detail.solution, self.app.tracker.ws.root)
        if not editor:
            self.notify(f"set $EDITOR to edit from here; your file is {where}")
            return
        try:
            with self.app.suspend():
                subprocess.call([*shlex.split(editor), str(self.detail.solution)])
        except Exception as exc:  # no terminal to hand over (e.g. a web session)
            self.notify(f"cannot open {editor}: {exc}; your file is {where}", severity="error")
        self.reload()

"""One day: the spec, the verdict and per-check results, hints, the history of attempts.

Start, grade (in a worker, with live progress), watch (re-grade on save), reveal a hint.
The engine does the work; this screen asks the app to run it and draws the answers.
"""

from __future__ import annotations

import os
import shlex
import subprocess

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Markdown,
    Static,
    TabbedContent,
    TabPane,
)

from tracker.errors import MltrackError
from tracker.plan import PlanDay
from tracker.tui.grading import GradeRun
from tracker.tui.model import DayDetail, read_day, relative
from tracker.tui.screens.note import NoteScreen
from tracker.tui.screens.quiet_day import keep_note, read_quiet_day
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
_LOCKED = "The reference solution unlocks once you pass this day."


class DayScreen(Screen[None]):
    CSS_PATH = "day.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", key_display="esc"),
        Binding("s", "start", "Start"),
        Binding("g", "grade", "Grade"),
        Binding("w", "watch", "Watch"),
        Binding("h", "hint", "Hint"),
        Binding("e", "edit", "Edit"),
        Binding("d", "detail", "Trace"),
        Binding("n", "note", "Note"),
        Binding("1", "tab('spec')", "Spec", group=_TABS),
        Binding("2", "tab('results')", "Results", group=_TABS),
        Binding("3", "tab('hints')", "Hints", group=_TABS),
        Binding("4", "tab('history')", "History", group=_TABS),
        Binding("5", "tab('reference')", "Reference", group=_TABS),
    ]

    def __init__(self, day: PlanDay, *, grade_on_open: bool = False):
        super().__init__()
        self.day = day
        self.grade_on_open = grade_on_open  # opened with `g` from the plan
        self.detail: DayDetail | None = None
        self.watching = False
        self._watch_timer: Timer | None = None
        self._seen: object = None  # the solution folder at the last look (tracker.watch)
        self._saved = False  # it changed at the last look: grade once it is quiet
        self._regrade = False  # saved again while a grade was running
        self._announced: GradeRun | None = None  # the pass last announced

    @property
    def label(self) -> str:
        return self.day.label

    def compose(self) -> ComposeResult:
        yield Header()
        yield DayHeader(self.day.title, id="day-head")
        with TabbedContent(initial="spec", id="tabs"):
            with TabPane("Spec", id="spec"), VerticalScroll(id="spec-scroll"):
                yield Markdown(self._spec(), id="spec-text", open_links=False)
            with TabPane("Results", id="results"), Vertical(id="results-pane"):
                yield GradePanel(id="grade")
                yield CaseTable(id="cases")
                yield CaseDetail(id="case-detail")
                yield BenchTable(id="benches")
                yield MetricTable(id="metrics")
            with TabPane("Hints", id="hints"), VerticalScroll(id="hints-scroll"):
                yield HintList(id="hint-list")
                yield Static(id="day-notes")
            with TabPane("History", id="history"):
                yield AttemptTable(id="attempts")
            with TabPane("Reference", id="reference"), VerticalScroll(id="reference-scroll"):
                yield Static(_LOCKED, id="reference-text")
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
        if self.grade_on_open:
            self.call_later(self._grade_now)

    def on_unmount(self) -> None:
        self._stop_watching()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer shows s until the day is started, and d while a failure's details
        are shown (so that every key fits in 100 columns)."""
        if action == "start":
            return self.detail is None or not self.detail.started
        if action == "detail":
            return self.query_one(CaseDetail).has_class("-shown")
        return True

    # ---- data --------------------------------------------------------------------------

    def reload(self) -> None:
        tracker = self.app.tracker
        self.app.in_thread(lambda: read_day(tracker, self.label), self._show,
                           group=f"day-{self.day.day}", exclusive=True)
        self.app.in_thread(lambda: read_quiet_day(tracker, self.day)[1], self._show_notes,
                           group=f"notes-{self.day.day}", exclusive=True)

    def _show_notes(self, notes) -> None:
        text = Text("\nYour notes", style="bold underline")
        if not notes:
            text.append("\nnone yet: press n to write one", style="dim")
        for n in notes:
            text.append(f"\n{n.created_at:%Y-%m-%d}  ", style="dim")
            text.append(n.text)
        self.query_one("#day-notes", Static).update(text)

    def _show(self, detail: DayDetail) -> None:
        self.detail = detail
        self.refresh_bindings()
        tz = self.app.settings.timezone
        self._header()
        run = self.app.grading
        if run is not None and run.label == self.label and not run.finished:
            self._grade_changed(run)  # a grade of this day is running: keep showing it
        else:
            self.query_one(GradePanel).show_latest(detail, tz)
            self.query_one(CaseTable).show_records(detail.cases, first_failure=True)
            self._show_case()
        self.query_one(BenchTable).show(detail.benches)
        self.query_one(MetricTable).show(detail.metrics)
        self.query_one(HintList).show(detail.hints, detail.hints_total)
        self.query_one(AttemptTable).show(detail.attempts, tz)
        tabs = self.query_one(TabbedContent)
        tabs.get_tab("hints").label = f"Hints {len(detail.hints)}/{detail.hints_total}"
        tabs.get_tab("history").label = f"History {len(detail.attempts)}"
        self._show_reference(detail)

    def _show_reference(self, detail: DayDetail) -> None:
        """The reference's files as highlighted code, once the day has been passed."""
        from rich.console import Group
        from rich.rule import Rule
        from rich.syntax import Syntax

        shown = self.query_one("#reference-text", Static)
        unlocked = any(a.verdict == "passed" for a in detail.attempts)
        self.query_one(TabbedContent).get_tab("reference").label = (
            "Reference" if unlocked else "Reference (locked)")
        if not unlocked:
            shown.update(_LOCKED)
            return
        try:
            paths = self.app.tracker.reference(self.label)
            parts = []
            for path in paths:
                code = path.read_text(encoding="utf-8", errors="replace")
                parts += [Rule(relative(path, self.app.tracker.ws.root), align="left"),
                          Syntax(code, "python" if path.suffix == ".py" else "text",
                                 theme="ansi_dark", line_numbers=True)]
            shown.update(Group(*parts))
        except (MltrackError, OSError) as exc:
            shown.update(f"The reference cannot be shown: {exc}")

    def _header(self) -> None:
        if self.detail is not None:
            self.query_one(DayHeader).show(self.detail, self.app.tracker.ws.root,
                                           watching=self.watching)

    def _show_case(self) -> None:
        detail = self.query_one(CaseDetail)
        shown = detail.has_class("-shown")
        detail.show(self.query_one(CaseTable).highlighted_case())
        if detail.has_class("-shown") != shown:
            self.refresh_bindings()  # d appears or goes (only then: a refresh redraws)

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
            self._after_pass(run)
            if self._regrade and self.watching:
                self._regrade = False
                self.call_later(self._grade_now)

    def _after_pass(self, run: GradeRun) -> None:
        """A pass unlocks the reference and makes the next day the one to do: say both."""
        outcome = run.outcome
        if outcome is None or str(outcome.result.verdict) != "passed" or run is self._announced:
            return
        self._announced = run  # a finished run is published more than once
        tracker = self.app.tracker

        def next_up():
            rows = [r for r in tracker.rows() if r.day.gradable and r.day.day > self.day.day
                    and r.status not in ("passed", "skipped-hw")]
            return rows[0] if rows else None

        def say(row) -> None:
            then = (f"next: {row.day.label} · {row.day.title} (esc, then enter on it)"
                    if row is not None else "that was the plan's last graded day")
            self.notify(f"the reference solution is unlocked: press 5 to read it. {then}",
                        title=f"{self.label} passed", timeout=10)

        self.app.in_thread(next_up, say, group="next-day")

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

    def action_detail(self) -> None:
        """Move between the checks and the highlighted failure's details (which scroll)."""
        self.query_one(TabbedContent).active = "results"
        detail = self.query_one(CaseDetail)
        if detail.has_focus or not detail.has_class("-shown"):
            self.query_one(CaseTable).focus()
        else:
            detail.focus()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    @on(TabbedContent.TabActivated, "#tabs")
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        """Keys go to what the tab shows: the spec scrolls, the tables move their cursor."""
        target = {"spec": "#spec-scroll", "results": "#cases", "hints": "#hints-scroll",
                  "history": "#attempts", "reference": "#reference-scroll"}.get(event.pane.id or "")
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

    def action_note(self) -> None:
        def keep(text: str | None) -> None:
            if text:
                keep_note(self.app, self.day, text, self.reload)
                self.query_one(TabbedContent).active = "hints"

        self.app.push_screen(NoteScreen(self.label), keep)

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

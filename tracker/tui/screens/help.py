"""`?`: every key of every screen, the filter syntax and what the statuses mean."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from tracker.tui.model import STATUS_LOOK
from tracker.tui.widgets.filter_bar import PLACEHOLDER

# Longer words for the help than fit in the footer.
EXPLAIN = {
    "switch_plan": "choose the plan to follow (with more than one plan)",
    "hardware": "this machine's hardware (class, CPU, GPUs, board)",
    "stop_grade": "stop the running grade at once (nothing is recorded)",
    "select": "open the highlighted day",
    "filter": "filter days: words, #tag, is:status, a day number",
    "next_day": "jump to the day to do next",
    "phase(-1)": "previous phase",
    "phase(1)": "next phase",
    "refresh": "read progress.db again (after grading in a shell)",
    "start": "copy the starter to solutions/<day>/",
    "grade": "grade in the background, with live progress (the highlighted day, on the plan)",
    "watch": "re-grade on every save of the solution (toggle)",
    "hint": "reveal the next hint (recorded)",
    "edit": "open the solution in $VISUAL / $EDITOR",
    "detail": "move between the checks and the failure's details (which scroll)",
    "note": "write a note on the day (kept in progress.db, shown in the report)",
    "mark_done": "mark a day without a grader done (rest, buffer, reading)",
}

MOVING = [("↑ ↓  j k", "move"), ("pgup pgdn  home end  G", "move further"),
          ("tab", "next part of the screen")]


def help_sections() -> list[tuple[str, list[tuple[str, str]]]]:
    """(section, [(key, what it does)]) for every screen, from the bindings themselves."""
    from tracker.tui.app import MltrackApp
    from tracker.tui.screens.day import DayScreen
    from tracker.tui.screens.plan import PlanScreen
    from tracker.tui.screens.quiet_day import QuietDayScreen
    from tracker.tui.widgets.plan_list import PlanList

    def keys(bindings) -> list[tuple[str, str]]:
        return [(b.key_display or b.key, EXPLAIN.get(b.action, b.description))
                for b in bindings if isinstance(b, Binding) and b.description]

    return [
        ("Everywhere", keys(MltrackApp.BINDINGS)),
        ("Plan", MOVING + keys([*PlanList.BINDINGS, *PlanScreen.BINDINGS])),
        ("Day", keys(DayScreen.BINDINGS)),
        ("Rest, buffer and days without a grader", keys(QuietDayScreen.BINDINGS)),
        ("Filter", [("/", PLACEHOLDER)]),
        ("Statuses", [(glyph, label) for glyph, label, _style in STATUS_LOOK.values()]),
    ]


def _table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True, min_width=10)
    table.add_column()
    table.add_row(Text(title, style="bold underline"), "")
    for key, what in rows:
        table.add_row(key, what)
    return table


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS = [
        Binding("escape", "dismiss", "Close", key_display="esc"),
        Binding("question_mark", "dismiss", "Close", key_display="?", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(Text("mltrack: keys", style="bold"), id="help-title")
            for title, rows in help_sections():
                yield Static(_table(title, rows))
            yield Static(Text("esc or ? closes this help", style="dim"))
        yield Footer()

    def action_dismiss(self) -> None:
        self.dismiss()

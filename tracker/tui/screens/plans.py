"""`p`: choose the active plan (shown once the course has more than one)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from tracker.plan import Plan


class PlanSwitcher(ModalScreen[str | None]):
    """Dismisses with the chosen plan's id, or None."""

    CSS_PATH = "plans.tcss"
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", key_display="esc")]

    def __init__(self, plans: list[Plan], active: str):
        super().__init__()
        self.plans = plans
        self.active = active

    def compose(self) -> ComposeResult:
        options = []
        for p in self.plans:
            mark = ("● ", "green") if p.id == self.active else ("  ", "")
            prompt = Text.assemble(mark, (p.title, "bold"), (f"  {p.id}", "dim"),
                                   (f"\n  {len(p.days)} days, {len(p.challenge_days())} graded",
                                    "dim"))
            options.append(Option(prompt, id=p.id))
        with Vertical(id="plans-box"):
            yield Static(Text("Choose the plan to follow", style="bold"))
            yield OptionList(*options, id="plans")
        yield Footer()

    def on_mount(self) -> None:
        box = self.query_one("#plans", OptionList)
        box.highlighted = box.get_option_index(self.active)
        box.focus()

    @on(OptionList.OptionSelected, "#plans")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

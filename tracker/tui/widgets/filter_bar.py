"""The plan filter: an input shown while it is in use (`/` opens it, escape clears it)."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

PLACEHOLDER = "filter: words in the title · #tag · is:passed is:todo is:rest · 53"


class FilterBar(Input):
    BINDINGS = [Binding("escape", "clear", "Clear filter")]

    class Cleared(Message):
        """The learner left the filter with escape (it is now empty)."""

    def __init__(self, *, id: str | None = None, cursor_blink: bool = True):
        super().__init__(placeholder=PLACEHOLDER, id=id)
        self.set_reactive(FilterBar.cursor_blink, cursor_blink)

    def action_clear(self) -> None:
        self.value = ""
        self.post_message(self.Cleared())

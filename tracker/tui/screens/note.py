"""`n`: write a note on the open day; enter keeps it (in progress.db), escape drops it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class NoteScreen(ModalScreen[str | None]):
    """Returns the note's text, or None when the learner leaves without one."""

    CSS_PATH = "note.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", key_display="esc")]

    def __init__(self, label: str):
        super().__init__()
        self.label = label

    def compose(self) -> ComposeResult:
        with Vertical(id="note-body"):
            yield Static(f"A note on {self.label} (enter keeps it, esc drops it)",
                         id="note-title")
            yield Input(placeholder="what you did, read or want to remember", id="note-text")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)

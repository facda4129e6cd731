"""What went wrong in one check: its message, where the learner's own code failed (innermost
frame first), then the full traceback with the grader's frames, in a pane that scrolls."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from graders.results import learner_frames, summarise


def describe(case: dict[str, Any]) -> Text:
    """The check's name and message, the learner's frames, and the summarised traceback."""
    text = Text(case["nodeid"].split("::", 1)[-1], style="bold")
    message = (case.get("message") or "").strip()
    if message:
        text.append("\n" + message)
    details = (case.get("details") or "").strip()
    frames = learner_frames(details)
    if frames:
        text.append("\n\nin your code:", style="bold")
        for i, frame in enumerate(reversed(frames)):
            text.append("\n  " + ("at " if i == 0 else "called from "), style="dim")
            text.append(frame.where(), style="bold")
            if frame.code:
                text.append("\n      " + frame.code, style="cyan")
    if details and details != message:
        text.append("\n\nfull traceback:\n", style="bold")
        text.append(summarise(details), style="dim")
    return text


class CaseDetail(VerticalScroll, can_focus=True):
    """Shown while a check that did not pass is highlighted; focus it (d) to scroll."""

    def compose(self):
        yield Static(id="case-detail-text")

    def show(self, case: dict[str, Any] | None) -> None:
        body = self.query_one("#case-detail-text", Static)
        if case is None or case["outcome"] in ("passed", "pending"):
            self.remove_class("-shown")
            body.update("")
            return
        self.add_class("-shown")
        body.update(describe(case))
        self.scroll_home(animate=False)

    def text(self) -> str:
        """What the pane shows, as plain text (tests)."""
        return str(self.query_one("#case-detail-text", Static).render())

"""Every attempt at the day, newest first."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tracker.tui.model import VERDICT_STYLE, when


class AttemptTable(DataTable):
    def __init__(self, *, id: str | None = None):
        super().__init__(id=id, cursor_type="row")

    def on_mount(self) -> None:
        for label in ("#", "when", "verdict", "checks", "time", "from"):
            self.add_column(label, key=label)

    def show(self, attempts, tz) -> None:
        self.clear()
        for number, a in zip(range(len(attempts), 0, -1), attempts, strict=True):
            self.add_row(str(number), when(a.finished_at, tz),
                         Text(a.verdict, style=VERDICT_STYLE.get(a.verdict, "")),
                         f"{a.passed}/{a.total}", f"{a.duration_s:.1f} s", a.source)

"""What went wrong in one check: its message and the trimmed traceback or diff."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static


class CaseDetail(Static):
    def show(self, case: dict[str, Any] | None) -> None:
        if case is None or case["outcome"] in ("passed", "pending"):
            self.remove_class("-shown")
            self.update("")
            return
        self.add_class("-shown")
        text = Text(case["nodeid"].split("::", 1)[-1], style="bold")
        if case.get("message"):
            text.append("\n" + case["message"])
        details = (case.get("details") or "").strip()
        if details and details != (case.get("message") or "").strip():
            text.append("\n" + details, style="dim")
        self.update(text)

"""Figures the grader measured in the latest attempt (record_metric), against targets."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

VERDICT_COLOUR = {"PASS": "green", "FAIL": "red", "INCONCLUSIVE": "yellow"}


class MetricTable(DataTable):
    def __init__(self, *, id: str | None = None):
        super().__init__(id=id, cursor_type="none", show_cursor=False)

    def on_mount(self) -> None:
        self.border_title = "measured"
        for label in ("metric", "value", "target", "verdict"):
            self.add_column(label, key=label)

    def show(self, metrics) -> None:
        """MetricRecord rows (name, value, unit, target, verdict); hidden when none."""
        self.clear()
        self.set_class(bool(metrics), "-shown")
        for m in metrics:
            verdict = m.verdict or "recorded"
            self.add_row(m.name, f"{m.value:.4g} {m.unit}".strip(), m.target or "—",
                         Text(verdict, style=VERDICT_COLOUR.get(m.verdict, "dim")))

"""Benchmarks of the latest attempt against their targets, with the machine they ran on."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

VERDICT_COLOUR = {"PASS": "green", "FAIL": "red", "INCONCLUSIVE": "yellow"}


def figure(value: float | None, unit: str) -> str:
    """1.82×, 3.4 ms, 120 µs: a benchmark value the way a learner reads it."""
    if value is None:
        return "—"
    if unit == "x":
        return f"{value:.2f}×"
    if unit == "s":
        for scale, name in ((1, "s"), (1e-3, "ms"), (1e-6, "µs")):
            if abs(value) >= scale:
                return f"{value / scale:.3g} {name}"
        return f"{value / 1e-9:.3g} ns"
    return f"{value:.4g} {unit}".strip()


class BenchTable(DataTable):
    def __init__(self, *, id: str | None = None):
        super().__init__(id=id, cursor_type="none", show_cursor=False)

    def on_mount(self) -> None:
        self.border_title = "benchmarks"
        for label in ("benchmark", "value", "95% interval", "before", "target", "verdict",
                      "on"):
            self.add_column(label, key=label)

    def show(self, benches: tuple[dict[str, Any], ...]) -> None:
        """Bench summaries (the store's bench_summary rows, with `previous`: the value the
        attempt before measured on this machine); hidden when there are none."""
        self.clear()
        self.set_class(bool(benches), "-shown")
        for b in benches:
            unit = b.get("unit", "")
            low, high = b.get("low"), b.get("high")
            interval = (f"{figure(low, unit)} – {figure(high, unit)}"
                        if low is not None and high is not None else "—")
            verdict = b.get("verdict") or "recorded"
            if not b.get("valid", True):
                verdict = f"{verdict} (noisy)"
            where = " ".join(filter(None, [b.get("hw_class"), b.get("device")]))
            before = figure(b["previous"], unit) if b.get("previous") is not None else "—"
            self.add_row(b.get("name", "?"), figure(b.get("value"), unit), interval,
                         Text(before, style="dim"), b.get("target") or "—",
                         Text(verdict, style=VERDICT_COLOUR.get(b.get("verdict", ""), "dim")),
                         Text(where, style="dim"))

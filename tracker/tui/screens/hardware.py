"""`H`: this machine as hardware detection sees it (class, features, CPU, GPUs, board).

Shown once the hardware package provides `hardware.detect.snapshot`; the probe runs in a
worker (NVML can take a moment) and its plain-data answer is drawn as it comes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

_FIRST = ("summary", "class", "classes", "features", "fingerprint")


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_value(v)}" for k, v in value.items() if v not in (None, "", []))
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value) or "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value in (None, "") else str(value)


def render_machine(data: dict[str, Any]) -> Table:
    """Top-level facts first, then one section per part (cpu, nvml, board...)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    keys = [k for k in _FIRST if k in data] + [k for k in data if k not in _FIRST]
    for key in keys:
        value = data[key]
        if key == "class" and isinstance(value, dict):
            value = f"{value.get('id', '?')}: {value.get('title', '')}".strip(": ")
        if isinstance(value, dict) and key != "class":
            table.add_row(Text(key, style="bold underline"), "")
            for sub, item in value.items():
                table.add_row(f"  {sub}", _value(item))
        else:
            table.add_row(key, _value(value))
    return table


class HardwareScreen(ModalScreen[None]):
    CSS_PATH = "hardware.tcss"
    BINDINGS = [Binding("escape", "dismiss", "Close", key_display="esc"),
                Binding("H", "dismiss", "Close", show=False)]

    def __init__(self, probe: Callable[[Path], dict[str, Any]]):
        super().__init__()
        self.probe = probe

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="hw-body"):
            yield Static(Text("This machine", style="bold"))
            yield Static(Text("detecting…", style="dim"), id="hw-facts")
        yield Footer()

    def on_mount(self) -> None:
        root = self.app.tracker.ws.root
        self.app.in_thread(lambda: self.probe(root), self._show, failed=self._failed,
                           group="hardware")

    def _show(self, data: dict[str, Any]) -> None:
        self.query_one("#hw-facts", Static).update(render_machine(data))

    def _failed(self, exc: Exception) -> None:
        self.query_one("#hw-facts", Static).update(
            Text(f"hardware detection failed: {type(exc).__name__}: {exc}", style="red"))

    def action_dismiss(self) -> None:
        self.dismiss()

"""`H`: this machine as hardware detection sees it (class, features, CPU, GPUs, board) and
its newest calibration; `c` calibrates it (about a second) and stores the result, where
benchmark targets find it.

The probe is `tracker.benchmarks.hardware_report` (tests inject a fixed one); it runs in a
worker, since NVML and calibrating take a moment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from tracker.tui.model import when

# (tracker, calibrate) -> {"machine": {...}, "calibration": {...} | None, "calibrated_at": ...}
HardwareProbe = Callable[[Any, bool], dict[str, Any]]

_FIRST = ("summary", "class", "classes", "features", "fingerprint")
CALIBRATION = (("compute_gflops", "compute", "GFLOP/s"), ("memory_gbps", "memory", "GB/s"),
               ("score", "score", "× the reference machine"))


SECTIONS = {"cpu": "CPU", "nvml": "NVIDIA GPUs", "board": "board", "fpga": "FPGA"}


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_value(v)}" for k, v in value.items() if v not in (None, "", []))
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value) or "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value in (None, "") else str(value)


def _section(part: dict[str, Any]) -> list[tuple[str, str]]:
    """A part's facts in words, the empty ones left out: `present False` and a list of
    dashes read as "none detected"."""
    if part.get("present") is False:
        return [("", "none detected")]
    rows = []
    for sub, item in part.items():
        if sub.endswith("_bytes") and isinstance(item, int):
            sub, item = sub.removesuffix("_bytes"), f"{item / 2**30:.1f} GiB"
        if sub.endswith("_mhz") and isinstance(item, int | float):
            sub, item = sub.removesuffix("_mhz"), f"{item:g} MHz"
        shown = _value(item)
        if shown != "—" and item is not False:
            rows.append((sub.replace("_", " "), shown))
    return rows or [("", "none detected")]


def render_machine(report: dict[str, Any], tz=None) -> Table:
    """Top-level facts first, one section per part (cpu, nvml, board...), then calibration."""
    data = report.get("machine", {})
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    keys = [k for k in _FIRST if k in data] + [k for k in data if k not in _FIRST]
    for key in keys:
        value = data[key]
        if key == "class" and isinstance(value, dict):
            value = f"{value.get('id', '?')}: {value.get('title', '')}".strip(": ")
        if isinstance(value, dict):
            table.add_row(Text(SECTIONS.get(key, key), style="bold underline"), "")
            for sub, item in _section(value):
                table.add_row(f"  {sub}", item)
        else:
            table.add_row(key, _value(value))
    table.add_row(Text("calibration", style="bold underline"), "")
    calibration = report.get("calibration")
    if not calibration:
        table.add_row("", Text("not calibrated on this machine yet: press c", style="yellow"))
        return table
    for key, label, unit in CALIBRATION:
        if calibration.get(key) is not None:
            table.add_row(f"  {label}", f"{calibration[key]:.3g} {unit}")
    stamp = report.get("calibrated_at")
    if stamp:
        from datetime import datetime

        table.add_row("  measured", when(datetime.fromisoformat(stamp), tz))
    return table


class HardwareScreen(ModalScreen[None]):
    CSS_PATH = "hardware.tcss"
    BINDINGS = [
        Binding("escape", "dismiss", "Close", key_display="esc"),
        Binding("c", "calibrate", "Calibrate"),
        Binding("H", "dismiss", "Close", show=False),
    ]

    def __init__(self, probe: HardwareProbe):
        super().__init__()
        self.probe = probe

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="hw-body"):
            yield Static(Text("This machine", style="bold"))
            yield Static(Text("detecting…", style="dim"), id="hw-facts")
        yield Footer()

    def on_mount(self) -> None:
        self._probe(calibrate=False)

    def _probe(self, *, calibrate: bool) -> None:
        tracker = self.app.tracker
        self.app.in_thread(lambda: self.probe(tracker, calibrate), self._show,
                           failed=self._failed, group="hardware", exclusive=True)

    def _show(self, report: dict[str, Any]) -> None:
        self.query_one("#hw-facts", Static).update(
            render_machine(report, self.app.settings.timezone))

    def _failed(self, exc: Exception) -> None:
        self.query_one("#hw-facts", Static).update(
            Text(f"hardware detection failed: {type(exc).__name__}: {exc}", style="red"))

    def action_calibrate(self) -> None:
        self.query_one("#hw-facts", Static).update(
            Text("calibrating: a compute- and a memory-bound workload, about a second…",
                 style="dim"))
        self._probe(calibrate=True)

    def action_dismiss(self) -> None:
        self.dismiss()

"""Settings of one TUI session (the tests fix what would make a frame vary)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any


@dataclass(frozen=True)
class TuiSettings:
    watch_interval_s: float = 0.5  # how often watch mode looks at the solution folder
    refresh_interval_s: float = 2.0  # how often to look for writes by others (0: never)
    commit: bool = True  # commit each grade, as `mltrack grade` does
    timezone: tzinfo | None = None  # for attempt times; None: this machine's local time
    cursor_blink: bool = True
    warm_up: bool = True  # after the first frame, import what opening a day needs
    # (tracker, calibrate) -> this machine and its calibration, as
    # tracker.benchmarks.hardware_report returns them; None: that function
    hardware_probe: Callable[[Any, bool], dict[str, Any]] | None = None

"""One grade as the TUI follows it: the runner's live events folded into what to draw.

The grade itself is `Tracker.grade`, run in a worker thread; this only keeps its progress.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


class GradeCancelled(Exception):
    """Raised from the event callback to stop a grade: the runner then kills the child and
    nothing is recorded."""


@dataclass
class GradeRun:
    label: str  # day53
    challenge: str
    nodeids: list[str] = field(default_factory=list)
    current: str = ""  # the check that is running
    cases: list[dict[str, Any]] = field(default_factory=list)  # finished checks, in order
    outcome: Any = None  # the engine's GradeOutcome once done
    error: str | None = None  # why no verdict came back
    cancelled: bool = False
    cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def finished(self) -> bool:
        return self.outcome is not None or self.error is not None or self.cancelled

    @property
    def total(self) -> int | None:
        return len(self.nodeids) if self.nodeids else None

    def apply(self, event: dict[str, Any]) -> None:
        """Fold one runner event (collected / begin / case / finish ...) into the run."""
        kind = event.get("event")
        if kind == "collected":
            self.nodeids = list(event.get("nodeids", []))
        elif kind == "begin":
            self.current = str(event.get("nodeid", "")).split("::", 1)[-1]
        elif kind == "case":
            self.cases.append(event)
            self.current = ""

    def check_cancel(self) -> None:
        """Called in the grading thread on every event: stop here if asked to."""
        if self.cancel.is_set():
            raise GradeCancelled(self.label)

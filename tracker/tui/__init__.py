"""The interactive tracker (Textual). `mltrack` with no command calls `run_tui`.

Textual is imported only when the TUI is built, so the CLI's other commands never pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracker.tui.settings import TuiSettings

if TYPE_CHECKING:
    from tracker.engine import Tracker
    from tracker.tui.app import MltrackApp
    from tracker.workspace import Workspace

__all__ = ["TuiSettings", "build_app", "run_tui"]


def build_app(tracker: Tracker | Workspace, settings: TuiSettings | None = None) -> MltrackApp:
    """The app on a workspace's engine (a Workspace gets a Tracker with source "tui")."""
    from tracker.engine import Tracker
    from tracker.tui.app import MltrackApp

    if not isinstance(tracker, Tracker):
        tracker = Tracker(tracker, source="tui")
    return MltrackApp(tracker, settings or TuiSettings())


def run_tui(tracker: Tracker, settings: TuiSettings | None = None) -> None:
    build_app(tracker, settings).run()

"""Fixtures for the TUI tests: a course workspace (one plan or two) and an app on it with
a fixed clock, time zone and hardware profile."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

import pytest

from tests.tui.kit import Clock, hardware_report, make_course
from tracker.engine import Tracker
from tracker.tui import TuiSettings, build_app
from tracker.tui.app import MltrackApp
from tracker.workspace import Workspace


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests (Pilot drives the app in an event loop) without a plugin."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{n: pyfuncitem.funcargs[n] for n in names}))
    return True


@pytest.fixture
def course(tmp_path: Path) -> Workspace:
    return make_course(tmp_path / "course")


@pytest.fixture
def two_plans(tmp_path: Path) -> Workspace:
    return make_course(tmp_path / "course", second_plan=True)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_app(clock: Clock) -> Callable[..., MltrackApp]:
    """An app on `workspace` with deterministic settings; keyword arguments override them."""
    trackers: list[Tracker] = []

    def make(workspace: Workspace, **overrides) -> MltrackApp:
        tracker = Tracker(workspace, source="tui", clock=clock)
        trackers.append(tracker)
        settings = dict(timezone=UTC, cursor_blink=False, warm_up=False, watch_interval_s=0.05,
                        refresh_interval_s=0, hardware_probe=hardware_report)
        settings.update(overrides)
        app = build_app(tracker, TuiSettings(**settings))
        app.theme = "textual-dark"  # not $TEXTUAL_THEME: snapshots must not follow a preference
        return app

    yield make
    for tracker in trackers:
        if tracker._store is not None:
            tracker._store.close()



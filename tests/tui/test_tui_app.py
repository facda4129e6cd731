"""The app around the screens: help, quit, the plan switcher, the hardware panel, errors,
key bindings for every action, and what is (not) imported to draw the first frame."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from textual.binding import Binding

from tests.tui.kit import SIZE, plan_rows, screen_text, settle
from tracker.tui.app import MltrackApp
from tracker.tui.screens.day import DayScreen
from tracker.tui.screens.hardware import HardwareScreen
from tracker.tui.screens.help import HelpScreen, help_sections
from tracker.tui.screens.plan import PlanScreen
from tracker.tui.screens.plans import PlanSwitcher
from tracker.tui.widgets.filter_bar import FilterBar
from tracker.tui.widgets.plan_list import PlanList

ROOT = Path(__file__).resolve().parents[2]


def _footer_keys(app) -> set[str]:
    return {b.key for _, b, enabled, _ in app.active_bindings.values()
            if b.show and enabled}


def test_the_factory_takes_a_workspace_or_a_tracker(course, clock):
    from tracker.engine import Tracker
    from tracker.tui import TuiSettings, build_app

    on_workspace = build_app(course)
    assert on_workspace.tracker.source == "tui" and on_workspace.tracker.ws == course
    tracker = Tracker(course, source="tui", clock=clock)
    settings = TuiSettings(watch_interval_s=1.0)
    on_tracker = build_app(tracker, settings)
    assert on_tracker.tracker is tracker and on_tracker.settings is settings


async def test_question_mark_shows_help_and_escape_closes_it(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        sections = dict(help_sections())
        assert ("w", "re-grade on every save of the solution (toggle)") in sections["Day"]
        assert ("?", "Help") in sections["Everywhere"] and "is:passed" in sections["Filter"][0][1]
        await pilot.press("escape")
        assert isinstance(app.screen, PlanScreen)


async def test_q_quits(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


def test_every_action_has_a_key_in_the_footer_or_help():
    classes = [MltrackApp, PlanScreen, PlanList, DayScreen, HelpScreen, PlanSwitcher,
               HardwareScreen, FilterBar]
    for cls in classes:
        bound = {b.action.split("(")[0] for b in cls.BINDINGS if isinstance(b, Binding)}
        own = {name.removeprefix("action_") for name in vars(cls) if name.startswith("action_")}
        missing = own - bound
        assert not missing, f"{cls.__name__}: actions without a key: {missing}"


async def test_the_footer_shows_the_keys_of_each_screen(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert {"slash", "n", "r", "question_mark", "q", "enter"} <= _footer_keys(app)
        assert "p" not in _footer_keys(app)  # a single plan: no switcher
        await pilot.press("home", "enter")
        await settle(pilot)
        assert {"s", "g", "w", "h", "escape", "question_mark", "q"} <= _footer_keys(app)


async def test_with_two_plans_p_switches_the_active_plan(two_plans, make_app):
    app = make_app(two_plans)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "p" in _footer_keys(app)
        await pilot.press("p")
        assert isinstance(app.screen, PlanSwitcher)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        assert app.standing.plan.id == "sprint" and app.sub_title == "Two-day sprint"
        rows = plan_rows(app)
        assert rows[0].startswith("Phase 1 · Sprint") and rows[1].endswith("Only a GPU can check")
    assert app.tracker.store.get_meta("active_plan") == "sprint"


async def test_the_hardware_panel_shows_this_machine(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("H")
        await settle(pilot)
        assert isinstance(app.screen, HardwareScreen)
        text = screen_text(app)
        assert "x86-cpu: Example CPU" in text and "0123456789abcdef" in text
        assert "not calibrated on this machine yet" in text
        await pilot.press("c")
        await settle(pilot)
        assert "41.5 GFLOP/s" in screen_text(app) and "2026-03-14 09:30" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, PlanScreen)


async def test_an_unreadable_record_is_a_notification_not_a_crash(course, make_app):
    course.db_path.write_bytes(b"this is not sqlite at all")
    app = make_app(course)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, PlanScreen)
        [note] = list(app._notifications)
        assert note.severity == "error" and "not an SQLite database" in note.message
        assert "1  …" in plan_rows(app)[1]  # the plan is still there to read


def _run(code: str, cwd: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, check=True,
                         capture_output=True, text=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


HEAVY = ("torch", "sklearn", "onnxruntime", "sqlmodel", "sqlalchemy", "numpy", "git")


def test_the_first_frame_imports_nothing_heavy(course):
    found = _run(f"""
        import asyncio, json, sys
        from pathlib import Path
        from tracker.engine import Tracker
        from tracker.tui import TuiSettings, build_app
        from tracker.tui.app import MltrackApp
        from tracker.workspace import Workspace

        seen = {{}}
        def on_ready(self):  # the first frame is on the screen
            seen["heavy"] = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
            seen["status"] = str(self.screen.query_one("PlanList").options[1].prompt)
            self.exit()
        MltrackApp.on_ready = on_ready
        app = build_app(Tracker(Workspace(Path({str(course.root)!r}))), TuiSettings())
        app.run(headless=True, size=(100, 30))
        print(json.dumps(seen))
    """, ROOT)
    assert found["heavy"] == []
    assert "…" in found["status"]  # drawn before the record was read


def test_the_cli_does_not_import_textual_for_help_or_status(course):
    found = _run("""
        import json, sys
        from tracker.cli import main
        for argv in (["mltrack", "--help"], ["mltrack", "status"]):
            sys.argv = argv
            try:
                main()
            except SystemExit:
                pass
        print(json.dumps({"textual": "textual" in sys.modules}))
    """, course.root)
    assert found == {"textual": False}

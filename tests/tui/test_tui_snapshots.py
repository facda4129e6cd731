"""What each screen looks like, as SVG snapshots: a fixed course, record, clock, time zone,
hardware profile and terminal size, and no cursor blink, so a frame differs only when the
TUI does. Update after an intended change: pytest tests/tui --snapshot-update"""

from __future__ import annotations

import pytest

from graders.results import Metric, Outcome, Verdict
from tests.tui.kit import SIZE, bench, record, settle

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def history(course, clock):
    """Day 1 failed once, then passed; day 3 skipped for want of a GPU; two hints used."""

    def fill(app):
        t = app.tracker
        record(t, "add", 1, Verdict.FAILED, [
            ("test_small_integers", Outcome.PASSED, ""),
            ("test_negative_numbers", Outcome.FAILED, "add(-2, -3) returned 1, expected -5"),
        ], benches=[bench("add latency", 4.1e-6, "s")],
            message="1 of 2 checks failed; first: test_negative_numbers")
        clock.advance(minutes=20)
        record(t, "add", 1, Verdict.PASSED, [
            ("test_small_integers", Outcome.PASSED, ""),
            ("test_negative_numbers", Outcome.PASSED, ""),
        ], metrics=[Metric("speed-up over the loop", 1.8, "x", ">= 1.5", "PASS")],
            benches=[bench("add latency", 2.5e-6, "s", low=2.4e-6, high=2.7e-6),
                     bench("speed-up vs loop", 1.82, "x", target=">= 1.5×", verdict="PASS",
                           low=1.7, high=1.9)],
            message="all 2 checks passed")
        record(t, "gpu-only", 3, Verdict.SKIPPED, [
            ("test_names_a_device_anywhere", Outcome.PASSED, ""),
            ("test_on_the_gpu", Outcome.SKIPPED, "needs nvidia-gpu: the test course has none"),
        ], message="every check needs hardware this machine lacks")
        t.hint("day1")
        (course.solutions_dir / "add").mkdir(parents=True)
        (course.solutions_dir / "add" / "solution.py").write_text("def add(a, b):\n    ...\n")
        return app

    return fill


def _keys(*keys):
    async def run_before(pilot):
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def test_plan_screen(snap_compare, course, make_app, history):
    app = history(make_app(course))
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys())


def test_plan_screen_filtered(snap_compare, course, make_app, history):
    app = history(make_app(course))
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("slash", "i", "s", ":", "t",
                                                                  "o", "d", "o"))


def test_day_screen_spec(snap_compare, course, make_app, history):
    app = history(make_app(course))
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("home", "enter"))


def test_day_screen_results(snap_compare, course, make_app, history):
    app = history(make_app(course))
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("home", "enter", "2"))


def test_day_screen_failed_check_details(snap_compare, course, make_app, history, clock):
    app = history(make_app(course))
    clock.advance(minutes=5)
    record(app.tracker, "add", 1, Verdict.FAILED, [
        ("test_negative_numbers", Outcome.FAILED, "add(-2, -3) returned 1, expected -5"),
        ("test_small_integers", Outcome.PASSED, ""),
    ], message="1 of 2 checks failed; first: test_negative_numbers")
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("home", "enter", "2"))


def test_day_screen_hints(snap_compare, course, make_app, history):
    app = history(make_app(course))
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("home", "enter", "3"))


def test_day_screen_history(snap_compare, course, make_app, history):
    app = history(make_app(course))
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("home", "enter", "4"))


def test_help_screen(snap_compare, course, make_app):
    assert snap_compare(make_app(course), terminal_size=SIZE, run_before=_keys("question_mark"))


def test_plan_switcher(snap_compare, two_plans, make_app):
    assert snap_compare(make_app(two_plans), terminal_size=SIZE, run_before=_keys("p"))


def test_hardware_panel(snap_compare, course, make_app):
    assert snap_compare(make_app(course), terminal_size=SIZE, run_before=_keys("H"))

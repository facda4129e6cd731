"""The day screen: the spec, hints one at a time, starting, grading in a worker (pass and
fail, with live progress), and watch mode re-grading on save."""

from __future__ import annotations

import asyncio

from textual.widgets import Markdown, TabbedContent

from graders.results import Outcome, Verdict
from tests.tui.kit import SIZE, bench, git, plan_rows, record, settle, wait_until
from tracker.tui.screens.day import DayScreen
from tracker.tui.screens.plan import PlanScreen
from tracker.tui.widgets.attempt_table import AttemptTable
from tracker.tui.widgets.bench_table import BenchTable
from tracker.tui.widgets.case_table import CaseTable
from tracker.tui.widgets.grade_panel import GradePanel
from tracker.tui.widgets.hint_list import HintList

PASSING = "def add(a, b):\n    return a + b\n"
FAILING = "def add(a, b):\n    return a - b\n"
SLOW = "import time\n\n\ndef add(a, b):\n    time.sleep(1.5)\n    return a + b\n"


def _text(widget) -> str:
    return str(widget.render())


def _panel(app) -> str:
    return _text(app.screen.query_one(GradePanel).query_one("#grade-text"))


async def _open_day1(pilot) -> DayScreen:
    await settle(pilot)
    await pilot.press("home", "enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, DayScreen) and pilot.app.screen.label == "day1"
    return pilot.app.screen


def _solution(course):
    return course.solutions_dir / "add" / "solution.py"


async def test_opening_a_day_shows_its_spec_and_escape_goes_back(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_day1(pilot)
        assert "Implement `add(a, b)" in screen.query_one(Markdown).source
        assert "not started: press s" in _panel(app)
        await pilot.press("escape")
        assert isinstance(app.screen, PlanScreen)


async def test_hints_are_revealed_one_at_a_time_and_recorded(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_day1(pilot)
        hints = screen.query_one(HintList)
        assert "2 of 2 hints hidden" in _text(hints)
        await pilot.press("h")
        await settle(pilot)
        assert screen.query_one(TabbedContent).active == "hints"
        assert "1. Python has an operator for this." in _text(hints)
        assert "return a + b" not in _text(hints)
        assert app.tracker.store.hints_used("add") == 1
        await pilot.press("h", "h")  # the third press has nothing new to show
        await settle(pilot)
        assert "2. return a + b" in _text(hints) and "all 2 hints shown" in _text(hints)
        assert app.tracker.store.hints_used("add") == 2


async def test_start_copies_the_starter_into_solutions(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        await _open_day1(pilot)
        await pilot.press("s")
        await settle(pilot)
        starter = (course.challenges_dir / "add" / "starter.py").read_text()
        assert _solution(course).read_text() == starter
        assert "edit solutions/add/solution.py" in _text(app.screen.query_one("#day-head"))
        await pilot.press("escape")
        assert "1  ● in progress" in plan_rows(app)[1]


async def test_grading_a_wrong_solution_shows_each_failed_check(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_day1(pilot)
        await pilot.press("s")
        await settle(pilot)
        _solution(course).write_text(FAILING)
        await pilot.press("g")
        await settle(pilot)
        assert screen.query_one(TabbedContent).active == "results"
        assert _panel(app).startswith("FAILED")
        table = screen.query_one(CaseTable)
        assert [c["outcome"] for c in table.cases] == ["failed", "failed"]
        assert "assert -1 == 5" in (table.cases[0]["message"] + table.cases[0]["details"])
        assert screen.query_one(AttemptTable).row_count == 1
    [attempt] = app.tracker.store.attempts("add")
    assert (attempt.verdict, attempt.source) == ("failed", "tui")
    assert "mltrack: day1 failed" in git(course.root, "log", "-1", "--format=%s")


async def test_grading_a_right_solution_passes_the_day(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        await _open_day1(pilot)
        await pilot.press("s")
        await settle(pilot)
        _solution(course).write_text(PASSING)
        await pilot.press("g")
        await settle(pilot)
        assert _panel(app).startswith("PASSED")
        assert "2/2 checks passed" in _panel(app)
        await pilot.press("escape")
        assert "1  ✓ passed       1 attempt" in plan_rows(app)[1]
    assert "mltrack: day1 passed" in git(course.root, "log", "-1", "--format=%s")


async def test_the_ui_answers_keys_while_a_grade_runs(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_day1(pilot)
        await pilot.press("s")
        await settle(pilot)
        _solution(course).write_text(SLOW)
        await pilot.press("g")
        await wait_until(pilot, lambda: app.grading.current != "")  # live: a check is running
        assert _panel(app).startswith("grading…") and not app.grading.finished
        await pilot.press("1")
        assert screen.query_one(TabbedContent).active == "spec"  # answered mid-grade
        assert not app.grading.finished
        await settle(pilot)
        assert app.grading.outcome.result.verdict == Verdict.PASSED
        assert len(app.grading.cases) == 2  # each check arrived as its own event


async def test_watch_mode_regrades_when_the_solution_is_saved(course, make_app):
    app = make_app(course, commit=False)
    async with app.run_test(size=SIZE) as pilot:
        await _open_day1(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("w")
        assert app.screen.watching
        _solution(course).write_text(FAILING)
        await wait_until(pilot, lambda: len(app.tracker.store.attempts("add")) == 1)
        await settle(pilot)
        _solution(course).write_text(PASSING + "\n")
        await wait_until(pilot, lambda: len(app.tracker.store.attempts("add")) == 2)
        await settle(pilot)
        assert _panel(app).startswith("PASSED")
        await pilot.press("w")  # off again: a save no longer grades
        _solution(course).write_text(FAILING)
        await pilot.pause(0.3)
        await settle(pilot)
        assert len(app.tracker.store.attempts("add")) == 2


async def test_grading_before_starting_says_to_start(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _open_day1(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert app.grading is None
        assert [n.message for n in app._notifications] == ["day1 is not started: press s first"]


async def test_history_lists_every_attempt_newest_first(course, make_app, clock):
    app = make_app(course)
    record(app.tracker, "add", 1, Verdict.FAILED, [("test_small_integers", Outcome.FAILED, "x")])
    clock.advance(hours=1)
    record(app.tracker, "add", 1, Verdict.PASSED, [("test_small_integers", Outcome.PASSED, "")])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_day1(pilot)
        table = screen.query_one(AttemptTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
    assert rows[0][:3] == ["2", "2026-03-14 10:30", "passed"]
    assert rows[1][:3] == ["1", "2026-03-14 09:30", "failed"]


async def test_quitting_mid_grade_asks_first_then_stops_the_grade(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _open_day1(pilot)
        await pilot.press("s")
        await settle(pilot)
        _solution(course).write_text(SLOW)
        await pilot.press("g")
        await wait_until(pilot, lambda: app.grading.current != "")
        await pilot.press("q")
        assert app.is_running
        assert "press q again to stop it and quit" in list(app._notifications)[-1].message
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.grading.cancel.is_set()
    for _ in range(600):  # the grade stops at its next event, at most one check later
        if all(w.is_finished for w in app.workers):
            break
        await asyncio.sleep(0.05)
    assert app.grading.cancelled or not app.grading.outcome
    assert app.tracker.store.attempts("add") == []  # a stopped grade is not an attempt


LOOP = "def add(a, b):\n    while True:\n        a = a + 1\n"


async def test_x_stops_a_running_grade_at_once_and_records_nothing(course, make_app):
    import psutil

    app = make_app(course)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _open_day1(pilot)
        await pilot.press("s")
        await settle(pilot)
        _solution(course).write_text(LOOP)
        await pilot.press("g")
        await wait_until(pilot, lambda: app.grading.current != "")
        assert "Stop grade" in _footer_keys(app)
        grading = [p for p in psutil.Process().children(recursive=True)
                   if "graders.child" in " ".join(p.cmdline())]
        assert grading, "the grade's child process is running"
        started = asyncio.get_running_loop().time()
        await pilot.press("x")
        await wait_until(pilot, lambda: app.grading.finished)
        # the day's limit is 10 s; the stop is at once
        assert asyncio.get_running_loop().time() - started < 5
        assert app.grading.cancelled and app.grading.outcome is None
        assert "nothing was recorded" in list(app._notifications)[-1].message
        await settle(pilot)
        assert "Stop grade" not in _footer_keys(app)
        assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in grading)
    assert app.tracker.store.attempts("add") == []


def _footer_keys(app) -> str:
    """The descriptions the footer shows (bindings whose check_action is False are not)."""
    return " ".join(b.binding.description for b in app.screen.active_bindings.values()
                    if b.binding.show)


async def test_benchmarks_show_against_their_targets_and_the_attempt_before(course, make_app):
    app = make_app(course)
    record(app.tracker, "add", 1, Verdict.FAILED, [("test_small_integers", Outcome.FAILED, "x")],
           benches=[bench("speed-up vs loop", 1.2, "x", target=">= 1.5×", verdict="FAIL")])
    record(app.tracker, "add", 1, Verdict.PASSED, [("test_small_integers", Outcome.PASSED, "")],
           benches=[bench("speed-up vs loop", 1.82, "x", target=">= 1.5×", verdict="PASS",
                          low=1.7, high=1.9), bench("add latency", 3.4e-3, "s")])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_day1(pilot)
        await pilot.press("2")
        table = screen.query_one(BenchTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        assert table.display
    assert rows[0] == ["speed-up vs loop", "1.82×", "1.70× – 1.90×", "1.20×", ">= 1.5×", "PASS",
                       "x86-cpu cpu"]
    assert rows[1][:5] == ["add latency", "3.4 ms", "—", "—", "—"]
    assert rows[1][5] == "recorded"

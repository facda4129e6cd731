"""The day screen in the learner's loop: a failure opens on the first failed check with
where the learner's own code broke, in a pane that scrolls; a pass unlocks the reference
and names the next day."""

from __future__ import annotations

from textual.widgets import Static, TabbedContent

from graders.results import Outcome, Verdict
from tests.tui.kit import SIZE, record, screen_text, settle
from tracker.tui.screens.day import DayScreen
from tracker.tui.widgets.case_detail import CaseDetail
from tracker.tui.widgets.case_table import CaseTable

RAISES_IN_A_HELPER = '''def _helper(a, b):
    parts = [a]
    return parts[1] + b


def add(a, b):
    return _helper(a, b)
'''
PASSING = "def add(a, b):\n    return a + b\n"


async def _graded_day1(pilot, course, source: str) -> DayScreen:
    await settle(pilot)
    await pilot.press("home", "enter")
    await settle(pilot)
    await pilot.press("s")
    await settle(pilot)
    (course.solutions_dir / "add" / "solution.py").write_text(source)
    await pilot.press("g")
    await settle(pilot)
    return pilot.app.screen


async def test_a_failure_shows_the_learners_own_frames_first(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _graded_day1(pilot, course, RAISES_IN_A_HELPER)
        text = screen.query_one(CaseDetail).text()
        assert text.index("at solution.py:3 in _helper") < text.index(
            "called from solution.py:7 in add") < text.index("full traceback:")
        assert "return parts[1] + b" in text


async def test_the_cursor_opens_on_the_first_failure_and_the_detail_scrolls(course, make_app):
    app = make_app(course)
    passed_first = [("test_small_integers", Outcome.PASSED, ""),
                    ("test_negative_numbers", Outcome.FAILED, "assert -1 == -5")]
    record(app.tracker, "add", 1, Verdict.FAILED, passed_first)
    long_case = app.tracker.store.cases(app.tracker.store.attempts("add")[0].id)[1]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("home", "enter")
        await settle(pilot)
        screen = app.screen
        await pilot.press("2")
        assert screen.query_one(CaseTable).cursor_row == 1
        detail = screen.query_one(CaseDetail)
        detail.show({"nodeid": long_case.nodeid, "outcome": "failed", "message": "boom",
                     "details": "\n".join(f"line {i}" for i in range(200))})
        await pilot.press("d")
        await pilot.pause()
        assert detail.has_focus and detail.max_scroll_y > 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert detail.scroll_y > 0


async def test_a_pass_unlocks_the_reference_tab_and_names_the_next_day(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _graded_day1(pilot, course, PASSING)
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        said = [m for m in messages if "reference solution is unlocked" in m]
        assert len(said) == 1 and "next: day3" in said[0], messages
        await pilot.press("5")
        assert screen.query_one(TabbedContent).active == "reference"
        await pilot.pause()
        assert "return a + b" in screen_text(app)


async def test_the_reference_is_locked_before_a_pass(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("home", "enter")
        await settle(pilot)
        await pilot.press("5")
        assert "unlocks once you pass" in str(app.screen.query_one("#reference-text",
                                                                   Static).render())


def test_the_hardware_panel_reads_as_words():
    from rich.console import Console

    from tracker.tui.screens.hardware import render_machine

    machine = {"summary": "x86-cpu: Example", "cpu": {"model": "Example", "freq_max_mhz": None,
                                                      "freq_mhz": 2596, "logical_cores": 8},
               "fpga": {"present": False, "managers": [], "devcfg": False},
               "board": {"model": None, "compatible": []}}
    console = Console(width=100, record=True, file=__import__("io").StringIO())
    console.print(render_machine({"machine": machine, "calibration": None}))
    text = console.export_text()
    assert "False" not in text and "present" not in text and "_" not in text
    assert "FPGA" in text and "none detected" in text and "2596 MHz" in text
    assert "logical cores" in text


async def test_a_modified_grader_is_graded_but_not_recorded_in_the_tui(course, make_app):
    from tracker import manifest

    manifest.write(course.root)
    (course.challenges_dir / "add" / "test_add.py").write_text("def test_x():\n    pass\n")
    app = make_app(course)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _graded_day1(pilot, course, PASSING)
        messages = [n.message for n in app._notifications]
    assert any("not recorded: its grader differs from the course manifest" in m
               for m in messages), messages
    assert app.tracker.store.attempts("add") == []

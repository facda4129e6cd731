"""The plan screen: every day by phase with its status, progress, keyboard and filter."""

from __future__ import annotations

from graders.results import Outcome, Verdict
from tests.tui.kit import SIZE, plan_rows, record, screen_text, settle, wait_until
from tracker.engine import Tracker
from tracker.tui.screens.day import DayScreen
from tracker.tui.screens.plan import PlanScreen
from tracker.tui.screens.quiet_day import QuietDayScreen
from tracker.tui.widgets.filter_bar import FilterBar
from tracker.tui.widgets.plan_list import PlanList
from tracker.tui.widgets.summary_bar import SummaryBar


def _highlighted(app) -> int:
    return app.screen.query_one(PlanList).highlighted_day.day


async def test_every_day_is_listed_by_phase_with_its_status(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        rows = plan_rows(app)
    assert rows[0].startswith("Phase 1 · Basics") and "0/1" in rows[0]
    assert "1  ○ not started" in rows[1] and rows[1].endswith("Add two numbers")
    assert "2  ~ rest day" in rows[2]
    assert rows[3].startswith("Phase 2 · Hardware · days 3–7")
    assert "3  ○ not started" in rows[4]
    assert "4  · no grader yet" in rows[5]
    assert "5–7  + buffer" in rows[6]


async def test_the_day_to_do_next_is_highlighted_on_open(course, make_app):
    app = make_app(course)
    record(app.tracker, "add", 1, Verdict.PASSED, [("test_small_integers", Outcome.PASSED, "")])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert _highlighted(app) == 3
        rows = plan_rows(app)
        summary = str(app.screen.query_one(SummaryBar).render())
    assert "1  ✓ passed       1 attempt" in rows[1] and "1/1" in rows[0]
    assert "passed 1/2" in summary and "streak 1 day" in summary and "next: day3" in summary


async def test_the_first_frame_is_drawn_before_the_record_is_read(course, make_app):
    app = make_app(course)
    assert not app.standing.loaded  # built from the plan file alone
    async with app.run_test(size=SIZE) as pilot:
        assert "1  …" in plan_rows(app)[1]  # drawn; status still unknown
        await settle(pilot)
        assert app.standing.loaded and "not started" in plan_rows(app)[1]


async def test_keys_move_through_days_and_phases(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert _highlighted(app) == 1
        await pilot.press("down")
        assert _highlighted(app) == 2
        await pilot.press("down")  # the phase heading is skipped
        assert _highlighted(app) == 3
        await pilot.press("k", "j", "j")
        assert _highlighted(app) == 4
        await pilot.press("left_square_bracket")  # back to the start of this phase
        assert _highlighted(app) == 3
        await pilot.press("left_square_bracket")
        assert _highlighted(app) == 1
        await pilot.press("right_square_bracket")
        assert _highlighted(app) == 3
        await pilot.press("G")
        assert _highlighted(app) == 5
        await pilot.press("n")  # the day to do next
        assert _highlighted(app) == 1


async def test_the_filter_narrows_the_plan_by_title_tag_or_status(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(FilterBar)
        assert not bar.display
        await pilot.press("slash")
        assert bar.has_focus and bar.display
        await pilot.press(*"gpu")
        assert [r.split()[0] for r in plan_rows(app)] == ["Phase", "3"]
        bar.value = "#basics"
        await pilot.pause()
        assert _highlighted(app) == 1 and len(plan_rows(app)) == 2
        bar.value = "is:rest"
        await pilot.pause()
        assert _highlighted(app) == 2
        await pilot.press("enter")  # back to the list, filter kept
        assert app.screen.query_one(PlanList).has_focus and bar.value == "is:rest"
        await pilot.press("slash", "escape")  # escape clears it
        assert bar.value == "" and len(plan_rows(app)) == 7
        assert isinstance(app.screen, PlanScreen)


async def test_q_typed_into_the_filter_is_text_not_quit(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", "q")
        assert app.screen.query_one(FilterBar).value == "q" and app.is_running


async def test_a_rest_day_opens_to_be_marked_done_and_noted(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("home", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, QuietDayScreen) and app.screen.label == "day2"
        assert "A rest day: nothing to grade" in screen_text(app)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("n")
        await pilot.press(*"read ch 2", "enter")
        await settle(pilot)
        text = screen_text(app)
        assert "✓ done" in text and "read ch 2" in text
        await pilot.press("escape")
        await settle(pilot)
        assert "2  ✓ done" in plan_rows(app)[2] and plan_rows(app)[2].endswith("Rest day")
    assert app.tracker.store.days_done("mini") == {2}
    assert [n.text for n in app.tracker.store.notes(plan="mini", day=2)] == ["read ch 2"]


async def test_an_unbuilt_day_opens_too(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("end", "up", "enter")  # day 4: no grader yet
        await settle(pilot)
        assert isinstance(app.screen, QuietDayScreen) and app.screen.label == "day4"
        assert "without a grader yet" in screen_text(app)


async def test_s_and_g_on_the_plan_start_and_grade_the_highlighted_day(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("home", "g")
        assert isinstance(app.screen, PlanScreen)  # not started: nothing to grade yet
        await pilot.press("s")
        await settle(pilot)
        assert (course.solutions_dir / "add" / "solution.py").is_file()
        (course.solutions_dir / "add" / "solution.py").write_text(
            "def add(a, b):\n    return a + b\n")
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, DayScreen) and app.grading.outcome is not None
    assert app.tracker.store.attempts("add")[0].verdict == "passed"


async def test_an_unknown_status_in_the_filter_is_named(course, make_app):
    app = make_app(course)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"is:foo")
        await pilot.pause()
        assert "unknown status is:foo" in app.screen.query_one(PlanList).border_subtitle


async def test_a_grade_recorded_elsewhere_shows_up_by_itself(course, make_app, clock):
    app = make_app(course, refresh_interval_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "1  ○ not started" in plan_rows(app)[1]
        shell = Tracker(course, clock=clock)  # as `mltrack grade` in another terminal
        record(shell, "add", 1, Verdict.PASSED, [("test_small_integers", Outcome.PASSED, "")])
        shell.store.close()
        await wait_until(pilot, lambda: "1  ✓ passed       1 attempt" in plan_rows(app)[1],
                         timeout=10)

"""The engine end to end on a real workspace: start, grade, record, hints, reference, reset."""

from __future__ import annotations

import pytest

from tracker.errors import Locked, NotGradable, NotStarted, UnknownDay


def test_start_copies_the_starter_once(tracker, workspace):
    target, path, created = tracker.start("day1")
    assert created and path == workspace.solutions_dir / "add" / "solution.py"
    assert path.read_text() == (workspace.challenges_dir / "add" / "starter.py").read_text()
    path.write_text("my work")
    _, _, created_again = tracker.start("1")
    assert not created_again and path.read_text() == "my work"
    assert tracker.store.state("add").status == "in-progress"


def test_grading_records_an_attempt_with_every_check(tracker, write_solution):
    write_solution("add", "add_fail")
    outcome = tracker.grade("day1", commit=False)
    [attempt] = tracker.store.attempts("add")
    assert attempt.id == outcome.attempt_id and attempt.verdict == "failed"
    assert (attempt.passed, attempt.failed, attempt.total) == (0, 2, 2)
    assert attempt.git_head  # the HEAD the attempt was graded on
    assert [c.outcome for c in tracker.store.cases(attempt.id)] == ["failed", "failed"]
    assert outcome.commit is None


def test_grading_another_folder_records_nothing(tracker, workspace):
    outcome = tracker.grade("1", solution=workspace.challenges_dir / "add" / "reference")
    assert outcome.result.verdict == "passed"
    assert outcome.attempt_id is None and tracker.store.attempts() == []


def test_a_day_that_was_not_started_says_how_to_start(tracker):
    with pytest.raises(NotStarted, match="run `mltrack start day1`"):
        tracker.grade("day1")


@pytest.mark.parametrize("text,error,needle", [
    ("day2", NotGradable, "rest day"),
    ("day4", NotGradable, "has no grader yet"),
    ("day6", NotGradable, "buffer day"),
    ("day99", UnknownDay, "unknown day 'day99'"),
])
def test_days_without_a_grader_are_refused_with_the_reason(tracker, text, error, needle):
    with pytest.raises(error, match=needle):
        tracker.grade(text)


def test_hints_come_one_at_a_time_and_are_recorded(tracker):
    first, second, again = tracker.hint("1"), tracker.hint("1"), tracker.hint("1")
    assert (first.number, first.total, first.new) == (1, 2, True)
    assert (second.number, second.text) == (2, "return a + b")
    assert not again.new and again.number == 2
    assert tracker.hints_shown("1") == ["Python has an operator for this.", "return a + b"]


def test_the_reference_unlocks_only_after_a_pass(tracker, write_solution):
    with pytest.raises(Locked, match="unlocks once you pass"):
        tracker.reference("1")
    write_solution("add", "add_pass")
    tracker.grade("1", commit=False)
    assert [p.name for p in tracker.reference("1")] == ["solution.py"]


def test_reset_restores_the_starter_and_keeps_the_old_work(tracker, workspace, write_solution):
    write_solution("add", "add_pass")
    tracker.grade("1", commit=False)
    _, backup = tracker.reset("1")
    assert (backup / "solution.py").read_text().startswith("def add(a, b):\n    return a + b")
    current = (workspace.solutions_dir / "add" / "solution.py").read_text()
    assert "NotImplementedError" in current
    assert tracker.store.state("add").status == "in-progress"
    assert len(tracker.store.attempts("add")) == 1  # history is kept


def test_rows_cover_every_day_of_the_plan_with_its_status(tracker, write_solution):
    write_solution("add", "add_pass")
    tracker.grade("1", commit=False)
    statuses = [(r.day.label, r.status) for r in tracker.rows()]
    assert statuses == [("day1", "passed"), ("day2", "rest"), ("day3", "not-started"),
                        ("day4", "planned"), ("day5-7", "buffer")]

"""The learner's daily loop on the command line: where a failure is in their own code, what
comes after a pass, the day in progress, the spec, hints, and a modified grader."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from graders.results import learner_frames, summarise
from tracker import manifest
from tracker.cli import app

runner = CliRunner()

RAISES_IN_A_HELPER = '''def _helper(a, b):
    parts = [a]
    return parts[1] + b


def add(a, b):
    return _helper(a, b)
'''
PASSING = "def add(a, b):\n    return a + b\n"


@pytest.fixture
def cli(workspace):
    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, ["--workspace", str(workspace.root), *args], input=input)

    return invoke


# ---- where the learner's code failed ---------------------------------------------------


def test_a_failure_shows_the_learners_frames_innermost_first(cli, write_solution):
    write_solution("add", RAISES_IN_A_HELPER)
    out = cli("grade", "day1", "--no-commit").stdout
    assert "IndexError: list index out of range" in out
    at, called = out.index("at solution.py:3 in _helper"), out.index("called from solution.py:7")
    assert at < called
    assert "return parts[1] + b" in out
    assert "test_add.py" not in out  # the grader's frames are folded away
    assert "at the same place as above" in out  # the second check failed there too


def test_verbose_prints_the_full_traceback_and_every_check(cli, write_solution):
    write_solution("add", RAISES_IN_A_HELPER)
    out = cli("grade", "day1", "--no-commit", "-v").stdout
    assert "../grader/test_add.py:2" in out and "solution.py:3: IndexError" in out


def test_passing_checks_are_one_line(cli, write_solution):
    write_solution("add", "add_pass")
    out = cli("grade", "day1", "--no-commit").stdout
    assert "✓ 2 checks passed" in out and "test_small_integers" not in out


def test_frames_are_read_from_pytests_traceback_text():
    details = (
        "    def test_x(solution):\n>       solution.matmul(a, b)\n\n../grader/test_x.py:9: \n"
        "_ _ _ _ _ _\nsolution.py:56: in matmul\n    columns = transpose(B)\n"
        "solution.py:41: in transpose\n    return [[A[i][j] ...]]\n"
        "solution.py:41: in <listcomp>\n    return [[A[i][j] ...]]\n_ _ _ _ _ _\n\n"
        ">   return [[A[i][j] ...]]\nE   IndexError: list index out of range\n\n"
        "solution.py:41: IndexError"
    )
    assert [(f.line, f.function) for f in learner_frames(details)] == [
        (56, "matmul"), (41, "transpose")]


def test_a_dump_of_a_large_object_is_summarised():
    text = summarise("E   x = " + "1" * 5000 + "\n" + "E   more\n" * 40)
    assert "(5008 characters)" in text and len(text) < 1500 and "more lines" in text


# ---- after a pass, what next -------------------------------------------------------------


def test_a_pass_says_the_reference_is_unlocked_and_names_the_next_day(cli, write_solution):
    write_solution("add", PASSING)
    out = cli("grade", "day1", "--no-commit").stdout
    assert "the reference solution is unlocked: mltrack solution day1" in out
    assert "next: day3 · Something only a GPU can check" in out


def test_grade_without_a_day_grades_the_day_in_progress(cli, write_solution):
    assert cli("grade").exit_code == 2  # nothing started: says what to start
    cli("start", "day1")
    write_solution("add", PASSING)
    result = cli("grade", "--no-commit")
    assert result.exit_code == 0, result.output
    assert "grading day1, the day in progress" in result.stdout


def test_spec_prints_the_days_spec(cli):
    result = cli("spec", "day1")
    assert result.exit_code == 0
    assert "Implement add(a, b)" in result.stdout.replace("`", "")
    assert cli("show", "1").stdout == result.stdout


# ---- hints ---------------------------------------------------------------------------------


def test_a_hint_on_a_day_not_started_asks_first(cli, workspace, tracker):
    refused = cli("hint", "day1", input="n\n")
    assert refused.exit_code == 1 and "not started yet" in refused.stdout
    assert tracker.store.hints_used("add") == 0
    assert "hint 1/2" in cli("hint", "day1", input="y\n").stdout


def test_hint_all_rereads_the_hints_shown_and_reveals_nothing(cli, tracker):
    cli("start", "day1")
    assert "no hint of day1 is revealed yet" in cli("hint", "day1", "--all").stdout
    cli("hint", "day1")
    data = json.loads(cli("hint", "day1", "--all", "--json").stdout)
    assert data == {"shown": ["Python has an operator for this."], "total": 2}
    assert tracker.store.hints_used("add") == 1


# ---- a modified grader -------------------------------------------------------------------


def test_a_modified_grader_is_graded_but_not_recorded(cli, workspace, write_solution, tracker):
    manifest.write(workspace.root)
    grader = workspace.challenges_dir / "add" / "test_add.py"
    grader.write_text("def test_nothing():\n    pass\n")
    write_solution("add", "add_fail")
    result = cli("grade", "day1", "--no-commit")
    assert result.exit_code == 2
    assert "not recorded: its grader differs from the course manifest" in result.output
    assert "challenges/add/test_add.py (modified)" in result.output
    assert tracker.store.attempts("add") == []
    assert cli("grade", "day1", "--solution", str(workspace.solutions_dir / "add"),
               "--no-commit").exit_code == 0  # a grade that records nothing is not refused


def test_a_plan_of_the_learners_own_does_not_stop_recording(cli, workspace, write_solution,
                                                           tracker):
    manifest.write(workspace.root)
    plan = workspace.challenges_dir / "plans" / "mine.toml"
    plan.write_text((workspace.challenges_dir / "plans" / "mini.toml").read_text()
                    .replace('id = "mini"', 'id = "mine"'))
    write_solution("add", PASSING)
    assert cli("grade", "day1", "--no-commit").exit_code == 0
    assert len(tracker.store.attempts("add")) == 1


# ---- day labels --------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["day-1", "-1"])
def test_a_negative_day_is_not_day_1(cli, text):
    result = cli("spec", "--", text)
    assert result.exit_code == 2 and "unknown day" in result.output


def test_flags_in_help_take_no_value_and_sentences_are_not_broken(cli):
    help_text = cli("grade", "--help").stdout
    assert "<bool>" not in help_text
    assert "--json" in help_text


@pytest.mark.parametrize("name", ["grade", "doctor", "hw", "verify", "report", "watch", "hint"])
def test_help_paragraphs_flow_without_the_sources_line_breaks(name):
    import click
    import typer.main

    group = typer.main.get_command(app)
    ctx = click.Context(group)
    command = group.get_command(ctx, name)
    for paragraph in command.help.split("\n\n"):
        assert "\n" not in paragraph, paragraph


def test_status_shows_each_phases_real_rows_and_says_attempts(cli, write_solution):
    write_solution("add", "add_fail")
    cli("grade", "day1", "--no-commit")
    out = cli("status").stdout
    assert "Phase 1: Basics · days 1–2" in out and "Phase 2: Hardware · days 3–7" in out
    assert "attempts" in out and "tries" not in out


# ---- days without a grader, notes ----------------------------------------------------------


def test_a_rest_day_is_marked_done_and_noted(cli, tracker):
    assert "marked done" in cli("done", "day2").stdout
    assert "noted on day2" in cli("note", "day2", "read chapter 2").stdout
    assert "read chapter 2" in cli("note", "2").stdout
    data = json.loads(cli("status", "--json").stdout)
    assert data["days"][1]["done"] is True and data["days"][0]["done"] is False
    assert "rest ✓ done" in cli("status").stdout
    assert tracker.store.days_done("mini") == {2}


def test_a_graded_day_is_done_when_it_passes_not_by_hand(cli):
    result = cli("done", "day1")
    assert result.exit_code == 2 and "done when it passes" in result.output


# ---- smaller -----------------------------------------------------------------------------


def test_a_deleted_solution_folder_of_a_worked_day_says_so(cli, workspace, write_solution):
    write_solution("add", PASSING)
    cli("grade", "day1", "--no-commit")
    import shutil

    shutil.rmtree(workspace.solutions_dir / "add")
    result = cli("grade", "day1", "--no-commit")
    assert result.exit_code == 2 and "solution folder add/ is missing" in result.output
    assert "mltrack reset day1" in result.output


def test_a_missing_solution_folder_to_grade_is_bad_input(cli):
    assert cli("grade", "day1", "--solution", "/nonexistent").exit_code == 2


def test_status_counts_points(cli, write_solution):
    write_solution("add", PASSING)
    cli("grade", "day1", "--no-commit")
    assert "10/20 points" in cli("status").stdout
    assert json.loads(cli("status", "--json").stdout)["summary"]["points"] == {
        "earned": 10, "possible": 20}


def test_watch_clears_between_runs_and_follows_to_the_next_day(workspace, write_solution):
    import os
    import signal
    import subprocess
    import sys
    import time

    write_solution("add", PASSING)
    env = {**os.environ, "MLTRACK_WORKSPACE": str(workspace.root), "FORCE_COLOR": "1",
           "COLUMNS": "100"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from tracker.cli import main; main()", "watch", "day1",
         "--interval", "0.1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (workspace.solutions_dir / "gpu-only").is_dir():
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert "PASSED" in out, out + err
    assert "on to day3" in out and "solutions/gpu-only/solution.py" in out
    assert "\x1b[2J" in out  # the screen is cleared before a grade

"""The command line through Typer's CliRunner: output, --json and exit codes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tracker.cli import app

runner = CliRunner()


@pytest.fixture
def cli(workspace):
    def invoke(*args: str):
        return runner.invoke(app, ["--workspace", str(workspace.root), *args])

    return invoke


def test_help_lists_every_command(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("start", "grade", "hint", "solution", "reset", "status", "plans"):
        assert command in result.output


def test_grade_json_reports_the_verdict_and_every_test(cli, write_solution):
    write_solution("add", "add_fail")
    result = cli("grade", "day1", "--json", "--no-commit")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert {"day", "verdict", "passed", "failed", "total", "tests"} <= set(data)
    assert (data["day"], data["verdict"], data["passed"], data["failed"], data["total"]) == (
        1, "failed", 0, 2, 2)
    assert data["tests"][0]["name"] == "test_small_integers"
    assert data["tests"][0]["outcome"] == "failed"


@pytest.mark.parametrize("source,code", [
    ("add_pass", 0), ("add_fail", 1), ("add_syntax_error", 1), ("add_segfault", 1),
])
def test_exit_code_is_zero_only_when_passed(cli, write_solution, source, code):
    write_solution("add", source)
    assert cli("grade", "1", "--no-commit").exit_code == code


def test_all_checks_needing_missing_hardware_exit_3(cli, workspace):
    folder = workspace.root / "mine"
    folder.mkdir()
    (folder / "solution.py").write_text("def device_name():\n    raise RuntimeError('no')\n")
    (workspace.challenges_dir / "gpu-only" / "test_gpu.py").write_text(
        "from graders import requires\n\n\ndef test_gpu(solution):\n"
        "    requires.hardware('nvidia-gpu', available=False)\n")
    result = cli("grade", "3", "--solution", str(folder), "--json")
    assert result.exit_code == 3 and json.loads(result.stdout)["verdict"] == "skipped"


@pytest.mark.parametrize("day,needle", [
    ("day999", "unknown day 'day999': plan mini has days 1–7; closest:"),
    ("dayx", "unknown day 'dayx'"),
    ("day2", "day 2 of mini is a rest day"),
])
def test_bad_days_are_one_line_and_exit_2(cli, day, needle):
    result = cli("grade", day)
    assert result.exit_code == 2
    assert needle in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_status_json_lists_every_day_with_kind_and_status(cli):
    data = json.loads(cli("status", "--json").stdout)
    assert [(d["id"], d["kind"], d["status"]) for d in data["days"]] == [
        ("day1", "challenge", "not-started"), ("day2", "rest", "rest"),
        ("day3", "challenge", "not-started"), ("day4", "challenge", "planned"),
        ("day5-7", "buffer", "buffer")]
    assert data["days"][0]["title"] == "Add two numbers" and data["days"][0]["phase"] == 1
    assert data["summary"]["next"] == "day1"


def test_start_hint_solution_reset_round_trip(cli, workspace):
    assert "started day1" in cli("start", "day1").stdout
    assert "hint 1/2" in cli("hint", "1").stdout
    locked = cli("solution", "1")
    assert locked.exit_code == 2 and "unlocks once you pass" in locked.stderr
    solution = workspace.solutions_dir / "add" / "solution.py"
    solution.write_text("def add(a, b):\n    return a + b\n")
    assert cli("grade", "1").exit_code == 0
    assert "return a + b" in cli("solution", "1").stdout
    reset = cli("reset", "1", "--yes")
    assert reset.exit_code == 0 and ".mltrack/backups/add-" in reset.stdout


def test_a_corrupted_db_is_one_line_and_exit_4(cli, workspace):
    workspace.db_path.write_bytes(b"garbage" * 50)
    result = cli("status")
    assert result.exit_code == 4
    assert "is not an SQLite database" in result.stderr and "Traceback" not in result.output


def test_outside_a_course_is_one_line(tmp_path):
    result = runner.invoke(app, ["--workspace", str(tmp_path), "status"])
    assert result.exit_code == 2 and "is not an mltrack course" in result.stderr

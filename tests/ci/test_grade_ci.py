"""`mltrack grade --changed/--all/--ci/--junit/--summary`: which days are graded, what is
written, and the exit code a CI job fails on."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.ci.conftest import by_challenge, ci_json, commit_all
from tests.conftest import git


def test_all_in_ci_mode_grades_every_started_day_and_fails_the_job_on_a_failure(
        course, solve, mltrack, tmp_path):
    solve("add", "add_pass")
    solve("close", "def root2():\n    return 1.4142\n")
    commit_all(course.root, "my work")
    junit, summary = tmp_path / "out" / "grades.xml", tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")

    done = mltrack("grade", "--all", "--ci", "--junit", str(junit), "--summary", str(summary))

    assert done.returncode == 1, done.stderr
    data = ci_json(done)
    assert data["schema"] == "mltrack.grade/1" and data["selection"]["mode"] == "all"
    days = by_challenge(data)
    assert list(days) == ["add", "close"]  # plan order; gpu-only has no solution: not graded
    assert days["add"]["verdict"] == "passed" and days["add"]["label"] == "day1"
    assert days["close"]["verdict"] == "failed" and days["close"]["label"] == "day8"
    assert data["summary"] == {"selected": 2, "graded": 2, "passed": 1, "failed": 1,
                               "skipped": 0, "inconclusive": 0}
    assert data["verify"]["ok"] is True and data["exit_code"] == 1
    assert "day8 close: failed" in done.stderr  # progress lines go to stderr, JSON to stdout

    suites = ET.parse(junit).getroot()
    assert suites.tag == "testsuites" and suites.get("failures") == "2"
    names = [s.get("name") for s in suites.iter("testsuite")]
    assert names == ["day1 Add two numbers", "day8 The square root of two"]
    failure = suites.find(".//testcase[@name='test_within_the_tolerance']/failure")
    assert failure is not None and "within 1e-9" in failure.get("message")

    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## ❌ mltrack — 2 days: 1 passed, 1 failed")
    assert "| day1 | Add two numbers | ✅ passed | 2/2 |" in text
    assert "| day8 | The square root of two | ❌ failed | 0/2 |" in text


def test_ci_mode_never_touches_progress_db_or_history(course, solve, mltrack):
    solve("add", "add_pass")
    head = commit_all(course.root, "my work")
    done = mltrack("grade", "--all", "--ci")
    assert done.returncode == 0, done.stderr
    assert not course.db_path.exists()  # neither read nor created
    assert git(course.root, "rev-parse", "HEAD") == head
    assert git(course.root, "status", "--porcelain") == ""


def test_ci_mode_grades_even_when_the_committed_progress_db_is_garbage(course, solve, mltrack):
    solve("add", "add_pass")
    course.db_path.write_bytes(b"not a database at all" * 100)
    commit_all(course.root, "a broken db")
    done = mltrack("grade", "--all", "--ci")
    assert done.returncode == 0, done.stderr
    assert by_challenge(ci_json(done))["add"]["verdict"] == "passed"


def test_changed_grades_only_days_whose_solutions_changed_since_the_ref(course, solve, mltrack):
    solve("add", "add_pass")
    solve("close", "def root2():\n    return 2 ** 0.5\n")
    base = commit_all(course.root, "two days")
    solve("close", "def root2():\n    return 1.5\n")
    commit_all(course.root, "broke day 8")

    done = mltrack("grade", "--changed", "--since", base, "--ci")
    data = ci_json(done)
    assert [d["challenge"] for d in data["days"]] == ["close"]
    assert data["selection"] == {"mode": "changed", "since": base}
    assert done.returncode == 1

    nothing = mltrack("grade", "--changed", "--since", "HEAD", "--ci")
    assert nothing.returncode == 0 and ci_json(nothing)["days"] == []


def test_changed_counts_uncommitted_and_untracked_work_and_defaults_to_head_1(course, solve,
                                                                               mltrack):
    solve("add", "add_pass")
    commit_all(course.root, "day 1")
    solve("close", "def root2():\n    return 2 ** 0.5\n")  # untracked
    done = mltrack("grade", "--changed", "--ci")  # since HEAD~1: day 1's commit counts too
    assert [d["challenge"] for d in ci_json(done)["days"]] == ["add", "close"]
    assert done.returncode == 0, done.stderr


def test_a_changed_course_folder_regrades_a_started_day_only(course, solve, mltrack):
    solve("add", "add_pass")
    base = commit_all(course.root, "day 1")
    for cid in ("add", "close"):
        spec = course.challenges_dir / cid / "spec.md"
        spec.write_text(spec.read_text() + "\nA clarification.\n")
    done = mltrack("grade", "--changed", "--since", base, "--json")  # local mode: no manifest
    assert [d["challenge"] for d in ci_json(done)["days"]] == ["add"]


def test_local_batch_records_and_commits_each_day_like_grade_day(course, solve, mltrack):
    solve("add", "add_pass")
    done = mltrack("grade", "--all")
    assert done.returncode == 0, done.stderr
    assert "1 day: 1 passed" in done.stdout
    assert "mltrack: day1 passed" in git(course.root, "log", "-1", "--format=%s")
    assert course.db_path.exists()


def test_hardware_days_are_skipped_with_their_reason_or_routed(course, solve, mltrack):
    solve("add", "add_pass")
    solve("gpu-only", "def device_name():\n    return 'cpu'\n")
    commit_all(course.root, "work")

    hosted = by_challenge(ci_json(mltrack("grade", "--all", "--ci")))
    gpu = hosted["gpu-only"]
    assert gpu["verdict"] == "passed" and gpu["skipped"] == 1  # the GPU check skipped ...
    assert "needs nvidia-gpu" in gpu["message"]  # ... with its reason, never passed
    [skip] = [t for t in gpu["tests"] if t["outcome"] == "skipped"]
    assert skip["skip_kind"] == "hardware"

    routed = mltrack("grade", "--all", "--ci", "--skip-hardware", "nvidia-gpu")
    assert routed.returncode == 0
    gpu = by_challenge(ci_json(routed))["gpu-only"]
    assert (gpu["graded"], gpu["verdict"]) == (False, "skipped")
    assert gpu["reason"].startswith("needs nvidia-gpu: graded on a self-hosted runner")

    runner = ci_json(mltrack("grade", "--all", "--ci", "--hardware", "nvidia-gpu"))
    assert [d["challenge"] for d in runner["days"]] == ["gpu-only"]


def test_one_day_in_ci_mode_and_junit_for_a_crash(course, solve, mltrack, tmp_path):
    solve("add", "add_os_exit")
    junit = tmp_path / "j.xml"
    done = mltrack("grade", "day1", "--ci", "--junit", str(junit))
    assert done.returncode == 1
    assert ci_json(done)["days"][0]["verdict"] == "crashed"
    suite = ET.parse(junit).getroot().find("testsuite")
    assert int(suite.get("errors")) >= 1  # a crash is never a green suite


def test_usage_errors_exit_2(course, mltrack):
    for args in (["grade"], ["grade", "day1", "--all"], ["grade", "--all", "--changed"],
                 ["grade", "--all", "--since", "HEAD"], ["grade", "--all", "--plan", "mini"],
                 ["grade", "day1", "--since", "HEAD"]):
        done = mltrack(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
    bad = mltrack("grade", "--changed", "--since", "no-such-ref", "--ci")
    assert bad.returncode == 2
    assert "--since no-such-ref: not a commit" in bad.stderr


def test_ci_mode_needs_the_manifest(workspace, write_solution):
    from tests.ci.conftest import run_mltrack

    write_solution("add", "add_pass")
    done = run_mltrack(workspace.root, "grade", "--all", "--ci")
    assert done.returncode == 2
    assert "MANIFEST.sha256: no manifest" in done.stderr


def test_the_ci_output_follows_its_published_schema(course, solve, mltrack):
    """tracker/grade_schema.json documents `mltrack.grade/1` for scripts: passed, failed,
    skipped-for-hardware and not-graded days all validate against it."""
    import json
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[2] / "tracker" / "grade_schema.json")
                        .read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    solve("add", "add_pass")
    solve("close", "def root2():\n    return 1.4142\n")
    solve("gpu-only", "def device_name():\n    return 'cpu'\n")
    commit_all(course.root, "my work")
    data = ci_json(mltrack("grade", "--all", "--ci", "--skip-hardware", "nvidia-gpu"))
    assert {d["verdict"] for d in data["days"]} >= {"passed", "failed", "skipped"}
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    assert data["schema"] == schema["properties"]["schema"]["const"]

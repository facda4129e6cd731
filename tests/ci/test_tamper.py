"""Verdicts cannot be faked by editing what the learner controls: the committed
progress.db, the course's graders, the grading run itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from graders.results import CaseResult, GradeResult, Outcome, Verdict
from tests.ci.conftest import by_challenge, ci_json, commit_all
from tracker.store import Store

WRONG_ROOT2 = "def root2():\n    return 1.4142\n"  # 1e-5 off: fails the 1e-9 tolerance

CHEAT_PLUGIN = """\
import pytest
import graders.plugin


class Cheat:  # turns every failed check into a passed one
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        report.outcome = "passed"
        return report


graders.plugin._session_config[0].pluginmanager.register(Cheat(), "cheat")
"""

# Finds the learner's course from inside the grading child: the parent's working folder
# (only in solutions graded by a real `mltrack` run in the course, never in-process here).
FIND_COURSE = """\
import os
from pathlib import Path
COURSE = Path(os.readlink(f"/proc/{os.getppid()}/cwd"))
"""


@pytest.fixture
def without_os_sandbox(monkeypatch):
    """The defenses that hold where bubblewrap does not (macOS, a locked-down container). In
    the OS sandbox these attacks fail before they reach them: the course and the grader copy
    are read-only there and mltrack's working folder is out of reach
    (tests/reliability/test_hostile_solutions.py)."""
    monkeypatch.setenv("MLTRACK_SANDBOX", "off")


def grade(tracker, course, challenge: str, code: str, extra: dict[str, str] | None = None):
    """Grade `code` as challenge's solution (a folder outside solutions/, not recorded)."""
    folder = course.root / "attempt" / challenge
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "solution.py").write_text(code, encoding="utf-8")
    for name, text in (extra or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return tracker.grade(challenge, solution=folder).result


# ---- progress.db ----------------------------------------------------------------------


def test_a_committed_progress_db_that_claims_a_pass_is_not_trusted(course, solve, mltrack):
    forged = GradeResult("close", Verdict.PASSED, "all 2 checks passed",
                         [CaseResult("test_close.py::test_square_root_of_two", Outcome.PASSED)])
    store = Store(course.db_path)
    store.record_attempt(plan="mini", day=8, result=forged, solution_hash="x", source="cli",
                         started_at=datetime.now(UTC))
    store.checkpoint()
    store.close()
    solve("close", WRONG_ROOT2)
    commit_all(course.root, "day 8 'passed'")

    done = mltrack("grade", "--all", "--ci")
    assert done.returncode == 1
    assert by_challenge(ci_json(done))["close"]["verdict"] == "failed"


@pytest.mark.usefixtures("without_os_sandbox")
def test_a_solution_that_writes_a_pass_into_progress_db_still_fails(course, solve, mltrack,
                                                                    tracker):
    solve("add", "add_pass")
    assert mltrack("grade", "day1", "--no-commit").returncode == 0  # a real progress.db
    writes_db = FIND_COURSE + """\
import sqlite3
db = sqlite3.connect(COURSE / "progress.db")
db.execute("INSERT INTO attempt (plan, day, challenge, started_at, finished_at, duration_s, "
           "verdict, message, passed, failed, skipped, total, solution_hash, source) VALUES "
           "('mini', 8, 'close', '2026-01-01', '2026-01-01', 1, 'passed', 'all passed', "
           "2, 0, 0, 2, 'x', 'cli')")
db.execute("INSERT OR REPLACE INTO daystate (challenge, status, attempts, passed_at) "
           "VALUES ('close', 'passed', 1, '2026-01-01')")
db.commit()
""" + WRONG_ROOT2
    solve("close", writes_db)
    commit_all(course.root, "day 8")

    ci = mltrack("grade", "--all", "--ci")
    assert by_challenge(ci_json(ci))["close"]["verdict"] == "failed" and ci.returncode == 1

    local = ci_json(mltrack("grade", "day8", "--no-commit", "--json"))  # recorded, forged row
    assert local["verdict"] == "failed"                                  # written meanwhile
    newest = tracker.store.attempts("close")[0]
    assert newest.id == local["attempt_id"] and newest.verdict == "failed"


# ---- the course's files ---------------------------------------------------------------


def test_verify_names_every_modified_grader_starter_plan_and_added_file(course, mltrack):
    ok = mltrack("verify")
    assert ok.returncode == 0 and "course files match challenges/MANIFEST.sha256" in ok.stdout
    ch = course.challenges_dir
    (ch / "close" / "test_close.py").write_text("def test_nothing():\n    pass\n")
    (ch / "add" / "starter.py").write_text("def add(a, b):\n    return a + b\n")
    plan = ch / "plans" / "mini.toml"
    plan.write_text(plan.read_text().replace("Add two numbers", "Add"))
    (ch / "add" / "conftest.py").write_text("")  # a conftest could rewrite every outcome
    (ch / "gpu-only" / "test_gpu.py").unlink()

    done = mltrack("verify")
    assert done.returncode == 1
    for line in ("challenges/close/test_close.py (modified)", "challenges/add/starter.py "
                 "(modified)", "challenges/plans/mini.toml (modified)",
                 "challenges/add/conftest.py (added)", "challenges/gpu-only/test_gpu.py "
                 "(missing)"):
        assert line in done.stdout
    data = ci_json(mltrack("verify", "--json"))
    assert data["ok"] is False and data["added"] == ["challenges/add/conftest.py"]

    assert mltrack("verify", "--update").returncode == 0  # a course author's regeneration
    assert mltrack("verify").returncode == 0


def test_ci_refuses_to_grade_against_a_modified_grader(course, solve, mltrack, tmp_path):
    grader = course.challenges_dir / "close" / "test_close.py"
    grader.write_text(grader.read_text().replace("TOLERANCE = 1e-9", "TOLERANCE = 1.0"))
    solve("close", WRONG_ROOT2)  # passes the loosened grader
    commit_all(course.root, "loosened the grader")
    junit = tmp_path / "j.xml"

    done = mltrack("grade", "--all", "--ci", "--junit", str(junit))
    assert done.returncode == 1
    day = by_challenge(ci_json(done))["close"]
    assert (day["graded"], day["verdict"]) == (False, "error")
    assert day["tampered"] == ["challenges/close/test_close.py (modified)"]
    assert "course files differ from the manifest" in day["reason"]
    error = ET.parse(junit).getroot().find(".//testcase[@name='verdict']/error")
    assert error is not None and "test_close.py" in error.text


def test_a_trusted_manifest_from_elsewhere_catches_a_regenerated_one(course, solve, mltrack,
                                                                     tmp_path):
    upstream = tmp_path / "upstream.sha256"
    upstream.write_bytes((course.root / "challenges" / "MANIFEST.sha256").read_bytes())
    grader = course.challenges_dir / "close" / "test_close.py"
    grader.write_text(grader.read_text().replace("TOLERANCE = 1e-9", "TOLERANCE = 1.0"))
    assert mltrack("verify", "--update").returncode == 0  # the learner covers their tracks
    solve("close", WRONG_ROOT2)
    assert mltrack("grade", "--all", "--ci").returncode == 0  # own manifest: fooled
    done = mltrack("grade", "--all", "--ci", "--manifest", str(upstream))
    assert done.returncode == 1
    assert by_challenge(ci_json(done))["close"]["verdict"] == "error"


@pytest.mark.usefixtures("without_os_sandbox")
def test_a_solution_that_edits_another_days_grader_and_the_manifest_is_caught(course, solve,
                                                                              mltrack):
    solve("add", FIND_COURSE + """\
grader = COURSE / "challenges" / "close" / "test_close.py"
grader.write_text(grader.read_text().replace("TOLERANCE = 1e-9", "TOLERANCE = 1.0"))
from tracker import manifest  # and cover the tracks: a manifest that agrees
manifest.write(COURSE)

def add(a, b):
    return a + b
""")
    solve("close", WRONG_ROOT2)
    commit_all(course.root, "work")

    done = mltrack("grade", "--all", "--ci")
    assert done.returncode == 1
    data = ci_json(done)
    close = by_challenge(data)["close"]
    assert (close["graded"], close["verdict"]) == (False, "error")  # checked right before,
    assert data["changed_during_grading"] == [  # against the manifest as read at the start
        "challenges/close/test_close.py (modified)"]


@pytest.mark.usefixtures("without_os_sandbox")
def test_a_solution_that_edits_its_copy_of_the_grader_gets_an_error(course, tracker):
    result = grade(tracker, course, "close", """\
from pathlib import Path
copy = Path(__file__).resolve().parent.parent / "grader" / "test_close.py"
copy.write_text(copy.read_text().replace("1e-9", "1.0"))
""" + WRONG_ROOT2)
    assert result.verdict == Verdict.ERROR
    assert result.message == ("tampering detected: the grader's files were modified while "
                              "grading (changed test_close.py)")


# ---- the grading run ------------------------------------------------------------------


@pytest.mark.parametrize("patch,named", [
    ("import sys\nsys.modules['test_close'].TOLERANCE = 1.0\n",
     "test_close.TOLERANCE was replaced"),
    ("import graders.expect\ngraders.expect.close = lambda *a, **k: None\n"
     "import builtins\nbuiltins.abs = lambda x: 0\n", "graders.expect.close was replaced"),
    ("import graders.expect\ngraders.expect.close.__kwdefaults__['atol'] = 1.0\n",
     "graders.expect.close had its code or defaults changed"),
    ("import sys\nsys.modules['test_close'].abs = lambda x: 0\n", "test_close.abs was added"),
    (CHEAT_PLUGIN, "a pytest plugin was registered (cheat)"),
    ("import _pytest.reports\n_pytest.reports.BaseReport.failed = property(lambda r: False)\n",
     "_pytest.reports.BaseReport.failed was replaced"),
])
def test_monkeypatching_the_grader_at_import_is_an_error_that_names_it(course, tracker, patch,
                                                                       named):
    result = grade(tracker, course, "close", patch + WRONG_ROOT2)
    assert result.verdict == Verdict.ERROR
    assert result.message.startswith("tampering detected while the solution was imported: ")
    assert named in result.message
    assert not result.verdict.ok  # whatever the patched pytest made of the checks


def test_monkeypatching_the_grader_during_a_check_is_an_error(course, tracker):
    result = grade(tracker, course, "close", """\
import sys

def root2():
    sys.modules['test_close'].TOLERANCE = 1.0
    return 1.4142
""")
    assert result.verdict == Verdict.ERROR
    assert "tampering detected during test_square_root_of_two: test_close.TOLERANCE was " \
           "replaced" in result.message


def test_patching_pytest_during_a_check_is_caught_by_the_end_of_the_run(course, tracker):
    result = grade(tracker, course, "close", """\
def root2():
    import _pytest.reports
    _pytest.reports.BaseReport.failed = property(lambda report: False)
    return 1.4142
""")
    assert result.verdict == Verdict.ERROR
    assert result.message == ("tampering detected by the end of grading: "
                              "_pytest.reports.BaseReport.failed was replaced")


def test_lines_forged_into_the_report_file_are_an_error(course, tracker):
    result = grade(tracker, course, "close", """\
import json, os, sys
path = sys.argv[sys.argv.index("--mltrack-report") + 1]
with open(path, "a") as f:
    for test in ("test_square_root_of_two", "test_within_the_tolerance"):
        f.write(json.dumps({"event": "case", "nodeid": "test_close.py::" + test,
                            "outcome": "passed"}) + "\\n")
    f.write(json.dumps({"event": "finish", "exitstatus": 0}) + "\\n")
os._exit(0)
""")
    assert result.verdict == Verdict.ERROR
    assert result.message == ("tampering detected: the grading report has a line the grader "
                              "did not write (did the solution write to the report file?)")


def test_a_pytest_module_in_the_solution_folder_cannot_stand_in_for_pytest(course, tracker):
    fake_pytest = """\
import json, sys
path = sys.argv[sys.argv.index("--mltrack-report") + 1]
with open(path, "a") as f:
    f.write(json.dumps({"event": "collected", "nodeids": ["t::a"]}) + "\\n")
    f.write(json.dumps({"event": "case", "nodeid": "t::a", "outcome": "passed"}) + "\\n")
    f.write(json.dumps({"event": "finish", "exitstatus": 0}) + "\\n")

def main(args):
    return 0
"""
    result = grade(tracker, course, "close", WRONG_ROOT2, {"pytest.py": fake_pytest})
    assert result.verdict == Verdict.ERROR
    assert "pytest.py, which would hide the installed module" in result.message


def test_a_helper_module_named_like_an_oracle_is_refused(course, tracker):
    result = grade(tracker, course, "close", "import helper\nroot2 = helper.root2\n",
                   {"numpy.py": "allclose = lambda *a, **k: True\n",
                    "helper.py": "def root2():\n    return 2 ** 0.5\n"})
    assert result.verdict == Verdict.ERROR
    assert result.message == ("the solution folder has numpy.py, which would hide the "
                              "installed module(s) of that name from the grader: rename it")


def test_an_honest_solution_that_uses_libraries_and_helpers_still_passes(course, tracker):
    result = grade(tracker, course, "close", """\
import json, random
import numpy as np
import helper
from graders import expect  # harmless: reading a helper is not tampering

np.set_printoptions(precision=3)
random.seed(0)
CONFIG = json.loads('{"digits": 12}')

def root2():
    return helper.newton(2.0)
""", {"helper.py": "def newton(a):\n    x = a\n    for _ in range(60):\n"
                   "        x = (x + a / x) / 2\n    return x\n"})
    assert result.verdict == Verdict.PASSED, result.message


def test_report_events_are_signed_and_checked_in_order():
    from graders.integrity import Signer, Verifier

    key = b"k" * 32
    signer, verifier = Signer(key), Verifier(key)
    lines = [signer.line({"event": "case", "nodeid": f"t::{i}", "outcome": "passed"}).encode()
             for i in range(3)]
    assert verifier.parse(lines[0].rstrip()) == {"event": "case", "nodeid": "t::0",
                                                 "outcome": "passed"}
    replay = verifier.parse(lines[0].rstrip())
    assert replay["event"] == "tampered" and "replayed" in replay["message"]
    assert Verifier(key).parse(b"{\"event\": \"finish\"") is None  # garbled: a dying child
    forged = json.dumps({"event": "finish", "seq": 0, "mac": "0" * 32}).encode()
    assert Verifier(key).parse(forged)["event"] == "tampered"


# ---- one day's solution against the days graded after it ------------------------------


@pytest.mark.usefixtures("without_os_sandbox")
def test_a_solution_that_rewrites_a_later_days_solution_does_not_pass_it(course, solve,
                                                                         mltrack):
    """CI grades each day's solution as it was pushed: copies are taken before any runs."""
    solve("add", FIND_COURSE + """\
(COURSE / "solutions" / "close" / "solution.py").write_text(
    "def root2():\\n    return 2 ** 0.5\\n")

def add(a, b):
    return a + b
""")
    solve("close", WRONG_ROOT2)
    commit_all(course.root, "work")

    data = ci_json(mltrack("grade", "--all", "--ci"))
    days = by_challenge(data)
    assert days["add"]["verdict"] == "passed"
    assert days["close"]["verdict"] == "failed", days["close"]["message"]
    assert data["exit_code"] == 1


@pytest.mark.usefixtures("without_os_sandbox")
def test_code_planted_for_python_start_up_stops_the_grading_of_later_days(course, solve,
                                                                          mltrack, tmp_path):
    """A `.pth` file in a site directory runs in every later grading child (it could patch
    the grader's reporting before any check): CI refuses to grade after one appears."""
    user_base = tmp_path / "userbase"
    env = {"PYTHONUSERBASE": str(user_base)}
    user_site = subprocess.run(
        [sys.executable, "-c", "import site; print(site.getusersitepackages())"],
        env={**os.environ, **env}, capture_output=True, text=True, check=True).stdout.strip()
    Path(user_site).mkdir(parents=True)
    solve("add", """\
import site
from pathlib import Path
Path(site.getusersitepackages(), "zz_helper.pth").write_text("import os\\n")

def add(a, b):
    return a + b
""")
    solve("close", WRONG_ROOT2)
    commit_all(course.root, "work")

    done = mltrack("grade", "--all", "--ci", env=env)
    data = ci_json(done)
    close = by_challenge(data)["close"]
    assert (close["graded"], close["verdict"]) == (False, "error")
    assert "the Python environment changed" in close["reason"]
    assert any(p.endswith("zz_helper.pth") for p in data["changed_during_grading"])
    assert done.returncode == 1


def test_the_grading_child_cannot_see_the_ci_runners_files_and_tokens(course, solve, mltrack,
                                                                      tmp_path):
    summary = tmp_path / "step_summary.md"
    summary.write_text("")
    solve("add", """\
import os
for key in ("GITHUB_STEP_SUMMARY", "GITHUB_ENV", "ACTIONS_RUNTIME_TOKEN"):
    assert key not in os.environ, key + " reached the solution"

def add(a, b):
    return a + b
""")
    commit_all(course.root, "work")
    env = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_ENV": str(tmp_path / "env"),
           "ACTIONS_RUNTIME_TOKEN": "secret"}
    data = ci_json(mltrack("grade", "add", "--ci", env=env))
    assert by_challenge(data)["add"]["verdict"] == "passed", by_challenge(data)["add"]

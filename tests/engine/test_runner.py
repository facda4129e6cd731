"""The grading runner: every way a solution can behave ends in a verdict with a clear
message, within the time limit, and leaves no process behind."""

from __future__ import annotations

import os
import time
import uuid

import psutil
import pytest

from graders.results import Outcome, Verdict, learner_frames
from graders.runner import Job, Limits, grade

LIMITS = Limits(timeout_s=3, memory_mb=400)


@pytest.fixture
def run(workspace, write_solution):
    def run(source: str, challenge: str = "add", limits: Limits = LIMITS,
            first_failure: bool = False, **kw):
        folder = write_solution(challenge, source)
        job = Job(challenge, workspace.challenges_dir / challenge, folder,
                  api=("add",) if challenge == "add" else ("device_name",), limits=limits,
                  first_failure=first_failure)
        return grade(job, **kw)

    return run


def test_a_correct_solution_passes_with_every_check_listed(run):
    result = run("add_pass")
    assert result.verdict == Verdict.PASSED
    assert [c.name for c in result.cases] == ["test_small_integers", "test_negative_numbers"]
    assert all(c.outcome == Outcome.PASSED for c in result.cases)
    assert (result.passed, result.failed, result.total) == (2, 0, 2)


def test_a_wrong_solution_fails_with_the_assertion_in_the_message(run):
    result = run("add_fail")
    assert result.verdict == Verdict.FAILED
    assert result.failed == 2
    assert "assert -1 == 5" in result.cases[0].message
    assert "test_small_integers" in result.message


def test_a_grade_asked_to_stop_at_the_first_failure_lists_the_rest_as_not_run(run):
    result = run("add_fail", first_failure=True)
    assert result.verdict == Verdict.FAILED
    assert [c.outcome for c in result.cases] == [Outcome.FAILED, Outcome.NOT_RUN]
    assert "1 of 2 checks failed, 1 not run" in result.message


def test_the_untouched_starter_is_reported_as_not_implemented(run, workspace):
    starter = (workspace.challenges_dir / "add" / "starter.py").read_text()
    result = run(starter)
    assert result.verdict == Verdict.FAILED
    assert result.cases[0].message == "not implemented yet: add"


@pytest.mark.parametrize("source,needle", [
    ("add_syntax_error", "solution.py has a syntax error at line 1"),
    ("add_import_error", "No module named 'no_such_package_for_mltrack'"),
    ("add_sys_exit_at_import", "called sys.exit('bye') while being imported"),
])
def test_a_solution_that_cannot_be_imported_is_an_error(run, source, needle):
    result = run(source)
    assert result.verdict == Verdict.ERROR
    assert needle in result.message
    assert all(c.outcome == Outcome.ERROR for c in result.cases)


def test_a_missing_function_is_named(run):
    result = run("add_missing_api")
    assert result.verdict == Verdict.FAILED
    assert result.message.startswith("solution.py does not define add")


def test_an_endless_loop_times_out_within_the_limit(run):
    start = time.monotonic()
    result = run("add_loop")
    assert time.monotonic() - start < LIMITS.timeout_s + 3
    assert result.verdict == Verdict.TIMEOUT
    assert "stopped after 3 s" in result.message and "test_small_integers" in result.message
    assert result.cases[0].outcome == Outcome.ERROR
    assert result.cases[1].outcome == Outcome.NOT_RUN


LOOPS_ON_POSITIVES = ("def add(a, b):\n    if a > 0:\n        while True:\n"
                      "            a = a + 1\n    return a + b\n")


def test_a_check_that_loops_fails_after_its_own_budget_and_the_grade_ends_there(run):
    start = time.monotonic()
    result = run(LOOPS_ON_POSITIVES, limits=Limits(timeout_s=30, check_timeout_s=1.5))
    assert time.monotonic() - start < 15, "the loop was not stopped by the check's budget"
    assert result.verdict == Verdict.FAILED
    looping, after = result.cases
    assert looping.outcome == Outcome.FAILED
    assert after.outcome == Outcome.NOT_RUN  # it would most likely loop too: not waited for
    assert looping.message.startswith("the check took longer than its time budget of 1.5 s")
    # where the learner's code was: inside the loop (its head or its body)
    [frame] = learner_frames(looping.details)
    assert (frame.file, frame.function, frame.line) in {("solution.py", "add", 3),
                                                         ("solution.py", "add", 4)}


def test_a_loop_the_budget_cannot_stop_is_killed_with_where_it_was(run):
    # a solution that silences the alarm runs into the day's limit; the stack dump taken
    # before the kill still says where it was
    source = ("import signal\n\n\ndef add(a, b):\n"
              "    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
              "    while True:\n        a = a + 1\n")
    result = run(source, limits=Limits(timeout_s=3, check_timeout_s=1))
    assert result.verdict == Verdict.TIMEOUT
    assert "; your code was at solution.py:" in result.message, result.message
    assert learner_frames(result.cases[0].details)[-1].where() in {"solution.py:6 in add",
                                                                   "solution.py:7 in add"}


@pytest.mark.parametrize("source,needle", [
    ("add_segfault", "killed by SIGSEGV"),
    ("add_os_exit", "exited with code 3 before grading finished"),
    ("add_flood", "printed more than 2 MB of output"),
    ("add_memory_bomb", "used more than 400 MB of memory"),
])
def test_a_solution_that_kills_the_process_is_a_crash(run, source, needle):
    result = run(source)
    assert result.verdict == Verdict.CRASHED
    assert needle in result.message
    assert "while running test_small_integers" in result.message


def _running(marker: str) -> list[psutil.Process]:
    """Processes whose command line carries `marker`: found from outside the sandbox too,
    where the pids the solution sees are its PID namespace's."""
    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if marker in (p.info["cmdline"] or []) and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
        except psutil.Error:
            pass
    return found


def test_children_of_the_solution_are_reaped(run):
    marker = f"mltrack-test-{uuid.uuid4().hex}"
    source = (
        "import subprocess, sys\n\n\ndef add(a, b):\n"
        "    # a child that leaves the process group and would outlive the grade\n"
        "    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)',\n"
        f"                      {marker!r}], start_new_session=True)\n"
        "    return a + b\n"
    )
    result = run(source)
    assert result.verdict == Verdict.PASSED
    time.sleep(0.2)
    assert not _running(marker), "a process started by the solution outlived the grade"


def test_a_grandchild_that_double_forks_and_drops_its_environment_is_reaped(run):
    """No token to find it by, no parent in the tree: it is still adopted and killed."""
    marker = f"mltrack-test-{uuid.uuid4().hex}"
    source = (
        "import os, sys\n\n\ndef add(a, b):\n"
        "    ready, tell = os.pipe()\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        "            os.write(tell, b'x')  # the check returns once the escapee runs\n"
        "            os.execve(sys.executable, [sys.executable, '-c',\n"
        f"                      'import time; time.sleep(600)', {marker!r}], {{}})\n"
        "        os._exit(0)\n"
        "    os.read(ready, 1)\n"
        "    return a + b\n"
    )
    result = run(source)
    assert result.verdict == Verdict.PASSED, result.message
    time.sleep(0.3)
    assert not _running(marker), "a re-exec'd grandchild with no environment outlived the grade"


def test_a_thread_left_running_does_not_hold_the_grade_open(run):
    """A correct solution that starts a non-daemon thread passes, and at once."""
    source = (
        "import threading, time\n\n"
        "threading.Thread(target=time.sleep, args=(600,)).start()\n\n\n"
        "def add(a, b):\n    return a + b\n"
    )
    result = run(source)
    assert result.verdict == Verdict.PASSED, result.message
    assert result.duration_s < LIMITS.timeout_s, f"the grade waited {result.duration_s} s"


def test_a_named_pipe_in_the_solution_folder_is_an_error_that_names_it(workspace,
                                                                       write_solution):
    folder = write_solution("add", "add_pass")
    os.mkfifo(folder / "feed")
    job = Job("add", workspace.challenges_dir / "add", folder, api=("add",), limits=LIMITS)
    result = grade(job)
    assert result.verdict == Verdict.ERROR
    assert "cannot be copied for grading: feed" in result.message and "named pipe" in result.message


def test_hardware_checks_are_skipped_with_their_reason_not_passed(run):
    result = run("def device_name():\n    return 'cpu'\n", challenge="gpu-only")
    assert result.verdict == Verdict.PASSED
    skipped = [c for c in result.cases if c.outcome == Outcome.SKIPPED]
    assert len(skipped) == 1 and result.passed == 1
    assert skipped[0].skip_kind == "hardware"
    assert skipped[0].message == "needs nvidia-gpu: this test course never has one"
    assert "1 skipped (needs nvidia-gpu" in result.message


def test_checks_needing_a_missing_package_are_skipped_with_their_reason(run, workspace):
    (workspace.challenges_dir / "add" / "test_optional.py").write_text(
        "from graders import requires\n\n\ndef test_with_an_optional_package(solution):\n"
        "    requires.package('no_such_module_for_mltrack', 'no-such-dist')\n")
    result = run("add_pass")
    [skipped] = [c for c in result.cases if c.outcome == Outcome.SKIPPED]
    assert skipped.skip_kind == "package"
    assert skipped.message == "needs package no-such-dist (pip install no-such-dist)"
    assert result.verdict == Verdict.PASSED and result.passed == len(result.cases) - 1


def test_live_events_arrive_while_grading(run):
    events = []
    run("add_pass", on_event=events.append)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "finish"
    assert kinds.count("case") == 2 and "collected" in kinds


def test_the_learners_files_and_the_course_are_untouched(run, workspace):
    source = "def add(a, b):\n    open('solution.py', 'w').write('wiped')\n    return a + b\n"
    run(source)
    assert (workspace.solutions_dir / "add" / "solution.py").read_text() == source
    assert not list(workspace.root.rglob("__pycache__"))


def test_the_reference_is_not_in_the_scratch_copy(run):
    """Relative paths only: an absolute path can reach it (SECURITY.md, "Not protected")."""
    probe = ("import pathlib\n\ndef add(a, b):\n"
             "    found = list(pathlib.Path('..').rglob('reference'))\n"
             "    return a + b + len(found)\n")
    assert run(probe).verdict == Verdict.PASSED

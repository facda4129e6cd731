"""Killing mltrack mid-grade (SIGKILL or Ctrl-C) loses nothing and leaves no process; many
graders at once lose no attempt."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

SLOW_PASS = "import time\n\n\ndef add(a, b):\n    time.sleep(0.4)\n    return a + b\n"
LOOP = "def add(a, b):\n    while True:\n        pass\n"


def mltrack(workspace, *args: str) -> subprocess.Popen:
    env = {**os.environ, "MLTRACK_WORKSPACE": str(workspace.root)}
    return subprocess.Popen([sys.executable, "-c", "from tracker.cli import main; main()", *args],
                            env=env, cwd=workspace.root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def integrity(workspace) -> str:
    with sqlite3.connect(workspace.db_path) as raw:
        return raw.execute("PRAGMA integrity_check").fetchone()[0]


def attempts(workspace) -> int:
    with sqlite3.connect(workspace.db_path) as raw:
        return raw.execute("SELECT count(*) FROM attempt").fetchone()[0]


def grading_children(parent_pid: int) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = p.info.get("cmdline") or []
        if "graders.child" in cmd and str(parent_pid) not in cmd:
            found.append(p)
    return found


def wait_for_child(proc: subprocess.Popen, timeout: float = 20) -> psutil.Process:
    """The Python process of the grading child (inside the sandbox's bwrap where it runs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in psutil.Process(proc.pid).children(recursive=True):
            try:
                cmd = child.cmdline()
                if "graders.child" in cmd and os.path.basename(cmd[0]) != "bwrap":
                    return child
            except psutil.Error:
                pass
        time.sleep(0.05)
    raise AssertionError("the grading child never started")


def gone(p: psutil.Process, timeout: float = 5) -> bool:
    try:
        p.wait(timeout=timeout)
    except psutil.TimeoutExpired:
        return False
    except psutil.NoSuchProcess:
        pass
    return True


BUSY = "while True:\n    pass\n"
ROUNDS = 3  # the race (a sweep reading another grade's half-written owner file) was rare


def test_eight_graders_at_once_lose_no_attempt(workspace, write_solution):
    """Eight grades at once, several rounds, with two busy loops stealing the cores."""
    write_solution("add", SLOW_PASS)
    first = mltrack(workspace, "status")  # creates the db before the rush
    first.communicate(timeout=60)

    def grade(_):
        proc = mltrack(workspace, "grade", "day1", "--json")
        out, err = proc.communicate(timeout=240)
        return proc.returncode, err

    busy = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(2)]
    try:
        for round_ in range(ROUNDS):
            with ThreadPoolExecutor(max_workers=8) as pool:
                results = list(pool.map(grade, range(8)))
            assert [code for code, _ in results] == [0] * 8, (round_, [e for _, e in results])
    finally:
        for p in busy:
            p.kill()
            p.wait()
    assert attempts(workspace) == 8 * ROUNDS
    assert integrity(workspace) == "ok"


def test_a_sweep_leaves_alone_a_scratch_whose_owner_is_being_written(tmp_path, monkeypatch):
    """The eight-graders race: grader A sweeps while grader B has created its scratch but
    not yet written its owner (an empty file) — A must neither crash nor delete it."""
    from graders import runner

    monkeypatch.setattr(runner.tempfile, "gettempdir", lambda: str(tmp_path))
    claiming = tmp_path / "mltrack-add-claiming"
    claiming.mkdir()
    (claiming / runner.OWNER_FILE).write_text("", encoding="ascii")
    abandoned = tmp_path / "mltrack-add-abandoned"
    abandoned.mkdir()
    (abandoned / runner.OWNER_FILE).write_text("999999999 1.00", encoding="ascii")
    runner._sweep_abandoned_scratch()
    assert claiming.is_dir() and not abandoned.exists()


def test_a_claim_is_written_whole(tmp_path):
    from graders import runner

    runner._claim(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [runner.OWNER_FILE]
    pid, started = (tmp_path / runner.OWNER_FILE).read_text(encoding="ascii").split()
    assert int(pid) == os.getpid() and float(started) > 0


@pytest.mark.parametrize("delay", [0.0, 0.3, 1.0])
def test_sigkill_mid_grade_leaves_the_db_consistent_and_no_orphan(workspace, write_solution,
                                                                  delay):
    write_solution("add", LOOP)
    proc = mltrack(workspace, "grade", "day1")
    child = wait_for_child(proc)
    time.sleep(delay)
    proc.kill()
    proc.communicate(timeout=30)
    assert gone(child), "the grading child outlived a SIGKILLed mltrack"
    if workspace.db_path.exists():
        assert integrity(workspace) == "ok"
    write_solution("add", "add_pass")
    again = mltrack(workspace, "grade", "day1", "--json")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert integrity(workspace) == "ok"


def test_ctrl_c_stops_the_grade_cleanly(workspace, write_solution):
    write_solution("add", LOOP)
    proc = mltrack(workspace, "grade", "day1")
    child = wait_for_child(proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err
    assert "Traceback" not in err
    assert gone(child)
    if workspace.db_path.exists():
        assert integrity(workspace) == "ok"


@pytest.mark.parametrize("after_s", [0.2, 0.4, 0.8, 1.5])
def test_ctrl_c_at_any_moment_exits_130_with_one_line(workspace, write_solution, after_s):
    """Start-up (imports), the child's start, its run: whenever Ctrl-C comes, one line,
    exit code 130, no traceback, and no attempt recorded for a grade that never ended."""
    write_solution("add", LOOP)
    proc = mltrack(workspace, "grade", "day1")
    time.sleep(after_s)
    started = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, err.strip().splitlines()[-1:]) == (130, ["error: interrupted"]), err
    assert "Traceback" not in err
    assert all(gone(c) for c in started)
    if workspace.db_path.exists():
        assert integrity(workspace) == "ok" and attempts(workspace) == 0


def test_the_scratch_copy_of_a_killed_grade_is_cleared_by_the_next(workspace, write_solution):
    write_solution("add", LOOP)
    proc = mltrack(workspace, "grade", "day1")
    child = wait_for_child(proc)
    scratch = Path(child.cwd()).parent  # the child works in <scratch>/solution
    proc.kill()
    proc.communicate(timeout=30)
    assert gone(child) and scratch.is_dir(), "SIGKILL gave mltrack no chance to clean up"
    write_solution("add", "add_pass")
    again = mltrack(workspace, "grade", "day1", "--json")
    again.communicate(timeout=120)
    assert again.returncode == 0
    assert not scratch.exists(), "the abandoned scratch copy was left behind"


@pytest.mark.parametrize("after_s", [0.0, 0.05, 0.15])
def test_sigkill_while_recording_or_committing_leaves_db_and_repo_sound(workspace,
                                                                       write_solution, after_s):
    """The child has finished: what is left is the db write and the git commit."""
    write_solution("add", "add_pass")
    mltrack(workspace, "status").communicate(timeout=60)  # the db exists before
    proc = mltrack(workspace, "grade", "day1")
    child = wait_for_child(proc)
    assert gone(child, timeout=30)
    time.sleep(after_s)
    proc.kill()
    proc.communicate(timeout=30)
    assert integrity(workspace) == "ok"
    assert attempts(workspace) in (0, 1)
    fsck = subprocess.run(["git", "fsck", "--no-progress"], cwd=workspace.root,
                          capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stderr
    again = mltrack(workspace, "grade", "day1", "--json")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert attempts(workspace) >= 1 and integrity(workspace) == "ok"

"""Hostile and broken solutions each end in a recorded verdict with a clear message, within
the day's time limit plus a small margin, and leave mltrack, progress.db and the learner's
files intact."""

from __future__ import annotations

import ast
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from graders import cgroup, sandbox
from graders.runner import Job, Limits, grade

TIMEOUT_S = 10  # the fixture challenge's timeout_s
MARGIN_S = 6

HOSTILE = {
    "endless loop": ("def add(a, b):\n    while True:\n        pass\n", "timeout",
                     "stopped after 10 s"),
    "deadlock": ("import threading\n\n\ndef add(a, b):\n    lock = threading.Lock()\n"
                 "    lock.acquire()\n    lock.acquire()\n", "timeout", "stopped after 10 s"),
    "sys.exit in a check": ("import sys\n\n\ndef add(a, b):\n    sys.exit(0)\n", "failed",
                            "SystemExit"),
    "os._exit": ("import os\n\n\ndef add(a, b):\n    os._exit(0)\n", "crashed",
                 "exited with code 0 before grading finished"),
    "segfault": ("import ctypes\n\n\ndef add(a, b):\n    ctypes.string_at(0)\n", "crashed",
                 "killed by SIGSEGV"),
    "memory bomb": ("def add(a, b):\n    hog = []\n    while True:\n"
                    "        hog.append(bytearray(64 * 2**20))\n"
                    "        hog[-1][::4096] = b'x' * (16 * 1024)\n",
                    "crashed", "more than 512 MB of memory"),
    "stdout flood": ("def add(a, b):\n    while True:\n        print('x' * 4096)\n", "crashed",
                     "more than 2 MB of output"),
    "stderr flood": ("import sys\n\n\ndef add(a, b):\n    while True:\n"
                     "        sys.stderr.write('y' * 4096)\n", "crashed",
                     "more than 2 MB of output"),
    "fork storm": ("import os, time\n\n\ndef add(a, b):\n    for _ in range(40):\n"
                   "        if os.fork() == 0:\n"
                   "            time.sleep(600)\n            os._exit(0)\n"
                   "    return a + b\n", "passed", "all 2 checks passed"),
    "syntax error": ("def add(a, b)\n    return a + b\n", "error", "syntax error at line 1"),
    "import error": ("import not_a_module_anywhere\n", "error", "No module named"),
    "missing function": ("def plus(a, b):\n    return a + b\n", "failed", "does not define add"),
    "wrong signature": ("def add(a):\n    return a\n", "failed", "TypeError"),
    "writes into its own folder": ("def add(a, b):\n    open('solution.py', 'w').write('')\n"
                                   "    return a + b\n", "passed", "all 2 checks passed"),
    "writes into any db found from its scratch copy": (
        "import glob, sqlite3\n\n\ndef add(a, b):\n"
        "    for db in glob.glob('../**/progress.db', recursive=True):\n"
        "        sqlite3.connect(db).execute('DROP TABLE attempt')\n    return a + b\n",
        "passed", "all 2 checks passed"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_solution_ends_in_a_recorded_verdict(tracker, workspace, write_solution,
                                                       name):
    source, verdict, needle = HOSTILE[name]
    write_solution("add", source)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    start = time.monotonic()
    outcome = tracker.grade("day1")
    assert time.monotonic() - start < TIMEOUT_S + MARGIN_S
    assert (outcome.result.verdict, needle in outcome.result.message) == (verdict, True), (
        outcome.result.message)
    # recorded, committed, and the record is sound
    [attempt] = tracker.store.attempts("add")
    assert attempt.verdict == verdict
    assert outcome.commit.committed, outcome.commit.reason
    with sqlite3.connect(workspace.db_path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # the learner's file is as they wrote it; nothing is left running
    assert (workspace.solutions_dir / "add" / "solution.py").read_text() == source
    time.sleep(0.1)
    leftover = [p for p in psutil.Process().children(recursive=True)
                if p.pid not in before and p.status() != psutil.STATUS_ZOMBIE]
    assert leftover == []


# ---- what only the OS sandbox stops --------------------------------------------------------
# Each solution attacks from inside its grade and lets the check pass or fail on its own; the
# test then looks from outside for the damage. The temporary folders (where these tests'
# workspaces live) are covered whole by the sandbox: `exposed` uncovers them, so that the
# workspace's own hiding (references, progress.db, .git, solutions) is what is tested.

MODE = sandbox.detect()
needs_sandbox = pytest.mark.skipif(not MODE.sandboxed, reason=MODE.describe())


@pytest.fixture
def exposed(monkeypatch):
    monkeypatch.setattr(sandbox, "_covering_dirs", lambda: [
        d for d in ("/run", os.path.realpath(Path.home())) if os.path.isdir(d)])


ESCAPES = {
    # name: (source with {placeholders}, verdict, words in the message)
    "reads the reference by absolute path": (
        "exec(open({ref!r}).read())\n", "error", "No such file or directory"),
    "unmounts what hides the reference, as root": (
        "import ctypes\nctypes.CDLL(None).umount2({course!r}.encode(), 2)\n"
        "exec(open({ref!r}).read())\n", "error", "No such file or directory"),
    "reads another day's solution": (
        "exec(open({other!r}).read())\n", "error", "No such file or directory"),
    "reads progress.db": ("open({db!r}, 'rb').read()\n", "error", "Permission denied"),
    "reads .git": ("import os\nassert os.listdir({git!r}) != [], 'sees .git'\n", "error",
                   "sees .git"),
    "writes into the workspace": ("open({planted!r}, 'w').write('import os\\n')\n", "error",
                                  "Read-only file system"),
    "opens a socket to the outside": (
        "import socket\nsocket.create_connection(('192.0.2.1', 80), timeout=30)\n", "error",
        "Network is unreachable"),
    "connects to a loopback port of the host": (
        "import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=30)\n",
        "error", "Connection refused"),
    "kills mltrack's pid": (
        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
        "os.kill({victim}, signal.SIGKILL)\n", "error", "ProcessLookupError"),
}


@needs_sandbox
@pytest.mark.parametrize("name", list(ESCAPES))
def test_an_escape_the_sandbox_stops(tracker, workspace, write_solution, exposed, name):
    source, verdict, needle = ESCAPES[name]
    other = write_solution("other", "def secret():\n    return 42\n") / "solution.py"
    grader = workspace.challenges_dir / "add" / "test_add.py"
    before = grader.read_text()
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0)
    places = dict(ref=str(workspace.challenges_dir / "add" / "reference" / "solution.py"),
                  course=str(workspace.challenges_dir),
                  planted=str(workspace.root / "sitecustomize.py"),
                  other=str(other), db=str(workspace.db_path), git=str(workspace.root / ".git"),
                  port=listener.getsockname()[1], victim=victim.pid)
    assert tracker.store.attempts("add") == []  # progress.db exists, as in a course under way
    try:
        write_solution("add", source.format(**places) + "\n\ndef add(a, b):\n    return a + b\n")
        # not a hang: the connections wait up to 30 s, the grade's timeout is 10 s
        result = tracker.grade("day1").result
        assert (result.verdict, needle in result.message) == (verdict, True), result.message
        assert victim.poll() is None, "the solution killed a process outside its grade"
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing reached the host's port
    finally:
        victim.kill()
        victim.wait()
        listener.close()
    assert grader.read_text() == before
    assert not (workspace.root / "sitecustomize.py").exists()
    [attempt] = tracker.store.attempts("add")
    assert attempt.verdict == verdict
    with sqlite3.connect(workspace.db_path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@needs_sandbox
def test_the_temporary_folders_and_home_are_out_of_sight(run_probe):
    """Another grade's scratch copy and the host's /tmp, daemon sockets in /run, and the home
    folder's keys: only the Python installation is there (pyenv lives under the home)."""
    home = Path.home().resolve()
    seen = run_probe(
        "mine = os.path.basename(os.path.dirname(os.getcwd()))\n"
        "print('TMP', sorted(set(os.listdir('/tmp')) - {mine}))\n"
        f"print('HOME', sorted(os.listdir({str(home)!r})))\n"
        "print('RUN', os.listdir('/run'))\n")
    def shown_again(folder: Path) -> set[str]:  # Python's own paths (a course cloned there)
        return {Path(p).resolve().relative_to(folder).parts[0]
                for p in sandbox._needed_paths() if Path(p).resolve().is_relative_to(folder)}

    assert set(seen["TMP"]) <= shown_again(Path("/tmp").resolve()), seen["TMP"]
    assert seen["RUN"] == []
    assert set(seen["HOME"]) <= shown_again(home), seen["HOME"]


@needs_sandbox
def test_a_course_installed_from_its_own_folder_still_hides_its_secrets(run_probe, workspace,
                                                                        monkeypatch):
    """`pip install -e .` in a course cloned under the home folder (as on CI runners): the
    course folder is shown again for Python, its secrets are hidden on top."""
    root = str(workspace.root.resolve())
    needed = sandbox._needed_paths()
    monkeypatch.setattr(sandbox, "_needed_paths", lambda: [*needed, root])
    seen = run_probe(
        f"root = {root!r}\n"
        "print('SHOWN', os.path.isdir(root))\n"
        "print('REFERENCE', os.path.exists(root + '/challenges/add/reference/solution.py'))\n"
        "print('SOLUTIONS', os.listdir(root + '/solutions'))\n"
        "print('GIT', os.listdir(root + '/.git'))\n")
    assert {k: seen.get(k) for k in ("SHOWN", "REFERENCE", "SOLUTIONS", "GIT")} == {
        "SHOWN": "True", "REFERENCE": "False", "SOLUTIONS": [], "GIT": []}


@needs_sandbox
def test_loopback_works_inside_the_grade(run_probe):
    """Server days: the grader's server and client meet on the sandbox's own loopback."""
    seen = run_probe(
        "import socket, threading\n"
        "server = socket.create_server(('127.0.0.1', 0))\n"
        "threading.Thread(target=lambda: server.accept()[0].sendall(b'pong'), daemon=True)"
        ".start()\n"
        "client = socket.create_connection(server.getsockname(), timeout=5)\n"
        "print('GOT', client.recv(4).decode())\n")
    assert seen["GOT"] == "pong"


@pytest.fixture
def run_probe(workspace, write_solution):
    """Run `code` at import in a grade; returns {KEY: value} from its `print('KEY', value)`."""

    def run(code: str) -> dict[str, object]:
        folder = write_solution("add", "import os, sys\nsys.stdout = sys.__stderr__\n" + code
                                + "\n\ndef add(a, b):\n    return a + b\n")
        job = Job("add", workspace.challenges_dir / "add", folder, api=("add",),
                  limits=Limits(timeout_s=TIMEOUT_S))
        result = grade(job)
        assert result.verdict == "passed", result.message + result.output_tail
        seen = {}
        for line in result.output_tail.splitlines():
            key, _, value = line.partition(" ")
            if key.isupper():
                seen[key] = ast.literal_eval(value) if value[:1] in "[{('" else value
        return seen

    return run


needs_cgroup = pytest.mark.skipif(cgroup.detect().kind == "none",
                                  reason=cgroup.detect().describe())


@needs_cgroup
def test_a_fork_bomb_is_bounded_even_as_root(tracker, write_solution, monkeypatch):
    """RLIMIT_NPROC does not bind root: the grade's cgroup does. The machine keeps forking
    while the bomb runs, and nothing of it is left after the timeout."""
    monkeypatch.setattr(cgroup, "PIDS_MAX", 128)  # the bound, small to spare this machine
    write_solution("add", "import os\n\n\ndef add(a, b):\n    while True:\n        try:\n"
                          "            os.fork()\n        except OSError:\n            pass\n")
    forks: list[int] = []
    done = threading.Event()

    def outside() -> None:
        while not done.is_set():
            forks.append(subprocess.run(["true"]).returncode)
            time.sleep(0.5)

    watcher = threading.Thread(target=outside)
    watcher.start()
    try:
        outcome = tracker.grade("day1")
    finally:
        done.set()
        watcher.join()
    assert outcome.result.verdict == "timeout", outcome.result.message
    assert forks and set(forks) == {0}, "the machine could not fork during the bomb"
    time.sleep(0.2)
    assert not [p for p in psutil.Process().children(recursive=True)
                if "graders.child" in " ".join(p.cmdline())]

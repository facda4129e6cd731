"""Hostile and broken solutions each end in a recorded verdict with a clear message, within
the day's time limit plus a small margin, and leave mltrack, progress.db and the learner's
files intact."""

from __future__ import annotations

import sqlite3
import time

import psutil
import pytest

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

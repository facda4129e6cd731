"""Where a stuck grade was: a per-check time budget and a stack dump before the kill.

Two layers, because each can miss:
- inside the child, every check runs under its own budget (`arm_check`): SIGALRM raises
  `CheckTimeout` in the learner's code, so the check fails with an ordinary traceback that
  points at the loop, and grading goes on with the next check;
- a loop the signal cannot interrupt (C code holding the interpreter) runs into the day's
  time limit; before the parent kills the child it asks for a `faulthandler` dump of every
  thread (`request_dump`), written by the interpreter's C-level handler, which needs no
  Python code to run, and the verdict then says where the learner's code was.
"""

from __future__ import annotations

import faulthandler
import os
import re
import signal
import time
from pathlib import Path

STACK_FILE = "stack.txt"  # in the grade's scratch folder
DUMP_SIGNAL = signal.SIGUSR1
_dump_file = None  # kept open for faulthandler's C-level handler


class CheckTimeout(BaseException):  # noqa: N818
    """A check ran past its time budget (a BaseException: a solution's `except Exception`
    must not swallow it)."""


# ---- in the child ------------------------------------------------------------------------


STACK_VAR = "MLTRACK_STACK_FILE"  # where the child writes the dump


def arm_dump(path: str) -> None:
    """On DUMP_SIGNAL, write every thread's stack to `path`."""
    global _dump_file
    _dump_file = open(path, "w", encoding="utf-8")  # noqa: SIM115
    faulthandler.register(DUMP_SIGNAL, file=_dump_file, all_threads=True, chain=False)


def arm_check(budget_s: float, what: str) -> None:
    """Raise CheckTimeout in the main thread once `budget_s` seconds have passed."""
    def expired(_signum, _frame):
        raise CheckTimeout(f"{what} took longer than its time budget of {budget_s:g} s and "
                           "was stopped (an endless loop?)")

    signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, budget_s)


def disarm_check() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)


# ---- in the parent -----------------------------------------------------------------------


def request_dump(pids: list[int], scratch: Path, wait_s: float = 1.0) -> str:
    """Ask the grading processes for their stacks; the dump's text ('' if none came)."""
    path = scratch / STACK_FILE
    for pid in pids:
        try:
            os.kill(pid, DUMP_SIGNAL)
        except OSError:
            pass
    deadline, size = time.monotonic() + wait_s, -1
    while time.monotonic() < deadline:  # written in a burst: wait until it stops growing
        time.sleep(0.05)
        now = path.stat().st_size if path.exists() else 0
        if now and now == size:
            break
        size = now
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


_DUMP_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<func>\S+)')


def as_traceback(dump: str, solution_dir: Path) -> str:
    """The dump's first thread (the one that was running the check) as traceback text that
    graders.results reads: outermost frame first, the learner's files by relative path."""
    threads = re.split(r"\n(?=(?:Current thread|Thread) 0x)", dump.strip())
    main = next((t for t in threads if "_pytest" in t), threads[0])  # the one running checks
    frames: list[str] = []
    prefix = str(solution_dir).rstrip("/") + "/"
    for line in main.splitlines():
        m = _DUMP_FRAME.match(line)
        if not m:
            continue
        file = m["file"].removeprefix(prefix)
        frames.append(f"{file}:{m['line']}: in {m['func']}\n    {_source(m['file'], m['line'])}")
    return "\n".join(reversed(frames))  # faulthandler lists the innermost first


def _source(file: str, line: str) -> str:
    try:
        with open(file, encoding="utf-8", errors="replace") as f:
            for number, text in enumerate(f, 1):
                if number == int(line):
                    return text.strip()
    except OSError:
        pass
    return ""

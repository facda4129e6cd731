"""Entry point of the grading child: apply resource limits, then run pytest.

Limits are applied here rather than in a `preexec_fn`, which is unsafe when the parent
has threads (the TUI grades from a worker thread).
Usage: python -m graders.child MEMORY_MB FILE_BYTES PARENT_PID LIFELINE_FD -- PYTEST_ARGS...
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import sys
import threading
import time

from graders import stuck


def _limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        pass  # a platform that refuses the limit: the parent's watchdog still applies


def _die_with_parent(parent: int, lifeline: int) -> None:
    """If mltrack is killed (SIGKILL, a closed terminal), take this process group down too,
    so that an endless loop cannot outlive the grade that started it.

    Three signs, because each can miss: the kernel's parent-death signal (which works even
    when a C extension holds the GIL), the parent pid changing, and end of file on the
    lifeline, a pipe whose only write end mltrack holds. In the OS sandbox only the
    lifeline reaches mltrack: the parent is the sandbox's init (PARENT_PID is 0), which
    a race in its start-up can leave running without mltrack."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    parent = parent or os.getppid()
    if os.getppid() != parent:  # it died before we could ask to be told
        os.killpg(os.getpgrp(), signal.SIGKILL)

    def watch() -> None:
        while True:
            time.sleep(0.25)
            if os.getppid() != parent:
                os.killpg(os.getpgrp(), signal.SIGKILL)

    def hold() -> None:
        with contextlib.suppress(OSError):
            os.read(lifeline, 1)  # returns when mltrack's end closes, however it died
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="mltrack-parent-watch", daemon=True).start()
    if lifeline >= 0:
        threading.Thread(target=hold, name="mltrack-lifeline", daemon=True).start()


PR_SET_CHILD_SUBREAPER = 36
SPARE_TASKS = 1024  # processes and threads the grade may add to what the user already runs


TASKS_VAR = "MLTRACK_USER_TASKS"  # the user's tasks, counted by mltrack outside the sandbox


def user_tasks() -> int:
    """Every task (process or thread) of this user that this process can see."""
    import psutil

    uid, tasks = os.getuid(), 0
    for p in psutil.process_iter(["uids", "num_threads"]):
        uids = p.info.get("uids")
        if uids is not None and uids.real == uid:
            tasks += p.info.get("num_threads") or 1
    return tasks


def _limit_processes() -> None:
    """Bound a fork bomb: RLIMIT_NPROC counts every task (process or thread) of the user,
    so the cap is what runs now plus a margin. The kernel ignores it for root. In the
    sandbox's PID namespace this process sees only its own grade, so mltrack counts for it
    (kernels before 5.14 count the user's tasks everywhere)."""
    if os.geteuid() == 0:
        return
    counted = os.environ.pop(TASKS_VAR, "")
    _limit(resource.RLIMIT_NPROC, (int(counted) if counted.isdigit() else user_tasks())
           + SPARE_TASKS)


def _adopt_orphans() -> None:
    """Become the subreaper of everything the solution starts: a process that double-forks
    and re-execs with an empty environment is reparented here, not to init, so it stays in
    this tree, where the parent's watchdog sees it and where it is killed at the end."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1)
    except (OSError, AttributeError):
        pass


def _kill_descendants() -> None:
    """Every process the solution left behind (all of them descendants: see above)."""
    import psutil

    me = psutil.Process()
    for _ in range(5):  # a process may fork while its siblings are killed
        try:
            left = me.children(recursive=True)
        except psutil.Error:
            return
        if not left:
            return
        for p in left:
            with contextlib.suppress(psutil.Error):
                p.kill()
        psutil.wait_procs(left, timeout=1)


def _finish(code: int) -> None:
    """Leave at once: a thread the solution left running must not hold the grade open
    (the verdict is already written), nor a process it started outlive it."""
    _kill_descendants()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def main(argv: list[str]) -> int:
    memory_mb, file_bytes, parent, lifeline = (int(a) for a in argv[:4])
    args = argv[argv.index("--") + 1 :]
    # Address space is a hard backstop well above the RSS limit the parent enforces:
    # numerical libraries reserve far more virtual memory than they touch.
    _limit(resource.RLIMIT_AS, (2 * memory_mb + 2048) * 2**20)
    _limit(resource.RLIMIT_FSIZE, file_bytes)
    _limit(resource.RLIMIT_CORE, 0)  # a segfault must not leave a core file behind
    _limit_processes()
    _die_with_parent(parent, lifeline)
    _adopt_orphans()
    if stack_file := os.environ.pop(stuck.STACK_VAR, ""):
        stuck.arm_dump(stack_file)  # before a time-limit kill, mltrack asks where it was

    import pytest

    return int(pytest.main(args))


if __name__ == "__main__":
    _finish(main(sys.argv[1:]))

"""Entry point of the grading child: apply resource limits, then run pytest.

Limits are applied here rather than in a `preexec_fn`, which is unsafe when the parent
has threads (the TUI grades from a worker thread).
Usage: python -m graders.child MEMORY_MB FILE_BYTES PARENT_PID -- PYTEST_ARGS...
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
import threading
import time


def _limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        pass  # a platform that refuses the limit: the parent's watchdog still applies


def _die_with_parent(parent: int) -> None:
    """If mltrack is killed (SIGKILL, a closed terminal), take this process group down too,
    so that an endless loop cannot outlive the grade that started it."""
    try:  # the kernel's own mechanism, for when a C extension holds the GIL
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it died before we could ask to be told
        os.killpg(os.getpgrp(), signal.SIGKILL)

    def watch() -> None:
        while True:
            time.sleep(0.25)
            if os.getppid() != parent:
                os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="mltrack-parent-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    memory_mb, file_bytes, parent = int(argv[0]), int(argv[1]), int(argv[2])
    args = argv[argv.index("--") + 1 :]
    # Address space is a hard backstop well above the RSS limit the parent enforces:
    # numerical libraries reserve far more virtual memory than they touch.
    _limit(resource.RLIMIT_AS, (2 * memory_mb + 2048) * 2**20)
    _limit(resource.RLIMIT_FSIZE, file_bytes)
    _limit(resource.RLIMIT_CORE, 0)  # a segfault must not leave a core file behind
    _die_with_parent(parent)

    import pytest

    return int(pytest.main(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Entry point of the grading child: apply resource limits, then run pytest.

Limits are applied here rather than in a `preexec_fn`, which is unsafe when the parent
has threads (the TUI grades from a worker thread).
Usage: python -m graders.child MEMORY_MB FILE_BYTES -- PYTEST_ARGS...
"""

from __future__ import annotations

import resource
import sys


def _limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        pass  # a platform that refuses the limit: the parent's watchdog still applies


def main(argv: list[str]) -> int:
    memory_mb, file_bytes = int(argv[0]), int(argv[1])
    args = argv[argv.index("--") + 1 :]
    # Address space is a hard backstop well above the RSS limit the parent enforces:
    # numerical libraries reserve far more virtual memory than they touch.
    _limit(resource.RLIMIT_AS, (2 * memory_mb + 2048) * 2**20)
    _limit(resource.RLIMIT_FSIZE, file_bytes)
    _limit(resource.RLIMIT_CORE, 0)  # a segfault must not leave a core file behind

    import pytest

    return int(pytest.main(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

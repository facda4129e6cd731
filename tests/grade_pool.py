"""Grades the course self-check's jobs ahead of the tests that assert on them.

Each grade is a child process that mostly keeps one core busy, so the self-check runs
`workers` of them at once (one per core, at most four) and every test waits only for its
own result. A grade that measures speed runs alone (a job enters `alone()` for it): its
timing must not share the cores.
`MLTRACK_SELFCHECK_WORKERS` overrides the count (1 grades one at a time);
`MLTRACK_SELFCHECK_TIMES=FILE` writes each grade's wall time there (to find the slow ones).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager

from graders.results import GradeResult


def default_workers() -> int:
    configured = os.environ.get("MLTRACK_SELFCHECK_WORKERS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(1, min(4, len(os.sched_getaffinity(0))))


Alone = Callable[[], AbstractContextManager[None]]


class GradePool:
    """Runs grading jobs in submission order on `workers` threads. A job is called with
    `alone`: inside `with alone():` nothing else runs (it waits for the others to finish,
    and none start until it leaves)."""

    def __init__(self, workers: int):
        self.workers = workers
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="selfcheck")
        self._running = 0
        self._exclusive = False  # a job is alone
        self._queued_exclusive = 0  # ... or waiting for the others to finish: none start
        self._idle = threading.Condition()
        self._futures: dict[str, Future[GradeResult]] = {}
        self._times: dict[str, float] = {}

    def submit(self, key: str, run: Callable[[Alone], GradeResult]) -> None:
        self._futures[key] = self._executor.submit(self._guarded, key, run)

    def result(self, key: str) -> GradeResult:
        return self._futures[key].result()

    def __contains__(self, key: str) -> bool:
        return key in self._futures

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        if path := os.environ.get("MLTRACK_SELFCHECK_TIMES"):
            with open(path, "a", encoding="utf-8") as out:
                out.writelines(f"{t:8.2f}  {key}\n" for key, t in self._times.items())

    @contextmanager
    def _alone(self) -> Iterator[None]:
        with self._idle:
            self._running -= 1  # give up this job's place while it waits: two jobs that
            self._queued_exclusive += 1  # want to be alone at once must not wait on each other
            self._idle.notify_all()
            self._idle.wait_for(lambda: self._running == 0)
            self._queued_exclusive -= 1
            self._running += 1
            self._exclusive = True
        try:
            yield
        finally:
            with self._idle:
                self._exclusive = False
                self._idle.notify_all()

    def _guarded(self, key: str, run: Callable[[Alone], GradeResult]) -> GradeResult:
        with self._idle:
            self._idle.wait_for(lambda: not self._exclusive and self._queued_exclusive == 0)
            self._running += 1
        start = time.perf_counter()
        try:
            return run(self._alone)
        finally:
            self._times[key] = time.perf_counter() - start
            with self._idle:
                self._running -= 1
                self._idle.notify_all()

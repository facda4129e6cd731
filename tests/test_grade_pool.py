"""The self-check's pool: grades run side by side, except inside `alone()`."""

from __future__ import annotations

import threading
import time

from tests.grade_pool import GradePool


def _run(jobs):
    """Run (key, wants_alone) jobs on 3 workers; each returns its busy interval."""
    pool = GradePool(3)
    spans, lock = {}, threading.Lock()

    def job(key, lonely):
        def run(alone):
            def work():
                start = time.perf_counter()
                time.sleep(0.3)
                with lock:
                    spans[key] = (start, time.perf_counter(), lonely)
            if lonely:
                with alone():
                    work()
            else:
                work()
            return key
        return run

    for key, lonely in jobs:
        pool.submit(key, job(key, lonely))
    results = {key: pool.result(key) for key, _ in jobs}
    pool.close()
    assert results == {key: key for key, _ in jobs}
    return spans


def _overlap(a, b):
    return a[0] < b[1] and b[0] < a[1]


def test_nothing_runs_beside_a_grade_that_is_alone():
    jobs = [(f"j{i}", i in (2, 5, 6)) for i in range(9)]  # two lonely ones in a row too
    spans = _run(jobs)
    for key, span in spans.items():
        if span[2]:
            others = [k for k, s in spans.items() if k != key and _overlap(span, s)]
            assert others == [], f"{key} ran alone beside {others}"


def test_grades_that_are_not_alone_share_the_workers():
    spans = _run([(f"j{i}", False) for i in range(3)])
    assert _overlap(spans["j0"], spans["j1"]) and _overlap(spans["j1"], spans["j2"])

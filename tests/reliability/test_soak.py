"""A short soak: grading a passing and a failing day 200 times leaks neither memory nor file
descriptors in the mltrack process, and records every attempt."""

from __future__ import annotations

import gc

import psutil
import pytest

ROUNDS = 200
WARM_UP = 20


@pytest.mark.slow
def test_two_hundred_grades_keep_memory_and_descriptors_flat(tracker, write_solution):
    me = psutil.Process()
    sources = ["add_pass", "add_fail"]
    baseline = None
    for i in range(ROUNDS):
        write_solution("add", sources[i % 2])
        outcome = tracker.grade("day1", commit=False)
        assert outcome.result.verdict == ("passed" if i % 2 == 0 else "failed")
        if i + 1 == WARM_UP:
            gc.collect()
            baseline = (me.memory_info().rss, me.num_fds())
    gc.collect()
    rss, fds = me.memory_info().rss, me.num_fds()
    assert fds <= baseline[1] + 2, f"file descriptors grew from {baseline[1]} to {fds}"
    growth_mb = (rss - baseline[0]) / 2**20
    assert growth_mb < 15, f"memory grew by {growth_mb:.1f} MB over {ROUNDS - WARM_UP} grades"
    assert tracker.store.count_attempts() == ROUNDS

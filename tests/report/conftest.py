"""A learner's history, written through the real store: attempts over several days with
hints, a real grade, benchmark records measured on two machines, a plain metric and a
hardware snapshot."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graders.results import BenchResult, CaseResult, GradeResult, Metric, Outcome, Verdict
from tracker.engine import Tracker
from tracker.store.benchstore import record_hardware

LAPTOP = {"fingerprint": "fp-laptop", "class": {"id": "x86-cpu"}, "summary": "Laptop, i7-1165G7"}


class Clock:
    """The record's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def at(self, day: int, hour: int = 12, minute: int = 0) -> None:
        self.now = datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def speedup(value: float, verdict: str, fingerprint: str = "fp-laptop",
            hw_class: str = "x86-cpu") -> BenchResult:
    return BenchResult(nodeid="test_add.py::test_fast", name="add", kind="compare", value=value,
                       unit="x", low=value * 0.9, high=value * 1.1, target=">= 1.5×",
                       verdict=verdict, fingerprint=fingerprint, hw_class=hw_class,
                       stats={"rounds": 12}, samples={"ratios": [value] * 3})


def latency(seconds: float, fingerprint: str, hw_class: str, device: str = "cpu"
            ) -> BenchResult:
    return BenchResult(nodeid="test_add.py::test_latency", name="add latency", kind="measure",
                       value=seconds, unit="s", low=seconds * 0.95, high=seconds * 1.05,
                       target="<= 3 ms (class x86-cpu)", verdict="PASS", device=device,
                       fingerprint=fingerprint, hw_class=hw_class, stats={"n": 50},
                       samples={"samples_s": [seconds] * 5})


def result(verdict: Verdict, benches=(), metrics=(), challenge: str = "add") -> GradeResult:
    outcome = {Verdict.PASSED: Outcome.PASSED, Verdict.SKIPPED: Outcome.SKIPPED}.get(
        verdict, Outcome.FAILED)
    cases = [CaseResult(f"test_{challenge}.py::test_{i}", outcome, 0.01) for i in range(2)]
    return GradeResult(challenge, verdict, str(verdict), cases, list(metrics),
                       duration_s=2.5, benches=list(benches))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def history(workspace, write_solution, clock) -> Tracker:
    """day1 (add): started 2 March, failed twice, one hint, passed on 3 March with its
    benchmark climbing past the target, then graded again on a GPU machine; day3
    (gpu-only): started and skipped on 5 March."""
    t = Tracker(workspace, clock=clock)
    store = t.store

    def attempt(res: GradeResult, day: int = 1) -> None:
        store.record_attempt(plan="mini", day=day, result=res, solution_hash="h", source="cli",
                             started_at=clock())

    clock.at(2, 9)
    t.start("day1")
    record_hardware(store, LAPTOP, {"score": 1.0, "compute_gflops": 12.0, "memory_gbps": 9.0})
    write_solution("add", "add_fail")
    clock.at(2, 10)
    real = t.grade("day1", commit=False)  # one real grade through the runner
    assert str(real.result.verdict) == "failed"
    t.hint("day1")
    clock.at(3, 9)
    attempt(result(Verdict.FAILED, [speedup(1.1, "FAIL")]))
    clock.at(3, 11)
    attempt(result(Verdict.FAILED, [speedup(1.4, "FAIL")]))
    clock.at(3, 15, 30)
    attempt(result(Verdict.PASSED, [speedup(1.8, "PASS"), latency(2.5e-3, "fp-laptop", "x86-cpu")],
                   [Metric("accuracy", 0.93, "", ">= 0.9", "PASS")]))
    clock.at(3, 18)  # the same code once more, on a machine with a GPU
    attempt(result(Verdict.PASSED, [latency(0.9e-3, "fp-gpu", "nvidia-ampere", "cuda")]))
    clock.at(5, 8)
    t.start("day3")
    attempt(result(Verdict.SKIPPED, challenge="gpu-only"), day=3)
    clock.at(5, 20)
    yield t
    store.close()

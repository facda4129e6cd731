"""Day 85 grader: the capstone's prototype skeleton. `prepare` must give the fp32 eager
baseline of the grader's trained MLP without touching it; `benchmark` must time through
graders.bench on one thread and return a record whose statistics hold together and whose
median agrees with the grader's own measurement of the same function in the same run."""

import contextlib
import os
import time

import pytest
import torch

from graders.data.capstone2 import (
    BENCH_BATCH,
    baseline,
    changes,
    load_task,
    record_problems,
    state_of,
)

torch.set_num_threads(1)
FACTOR = 1.5  # the learner's median may differ from the grader's by at most this factor
# the caller's thread count: never torch's default nor one per core, so restoring either
# instead of what the caller had shows
CALLER_THREADS = (os.cpu_count() or 1) + 1
SLEEP_S = 5e-4  # a call that sleeps this long: wall clock sees it, the thread's CPU time not


@pytest.fixture(scope="module")
def task():
    return load_task()


@pytest.fixture(scope="module")
def prepared(solution, task):
    """(fn, what prepare changed in the model)."""
    before = state_of(task.model)
    fn = solution.prepare(task.model, task.calib.clone())
    return fn, changes(task.model, before)


def test_prepare_leaves_the_model_alone(prepared):
    _, changed = prepared
    assert not changed, (f"prepare modified the model it was given: {changed}. The baseline "
                         "runs the model as it is; later optimisations must work on a copy")


def test_prepare_gives_the_fp32_eager_logits(prepared, task):
    fn, _ = prepared
    assert callable(fn), f"prepare must return a function, not {type(fn).__name__}"
    out = fn(task.x_bench)
    assert isinstance(out, torch.Tensor), f"fn(x) returned {type(out).__name__}, not a tensor"
    assert out.dtype == torch.float32 and tuple(out.shape) == (BENCH_BATCH, 10), (
        f"fn(x) of {BENCH_BATCH} images gave {out.dtype} {tuple(out.shape)}; the baseline "
        f"returns float32 logits ({BENCH_BATCH}, 10)")
    assert not out.requires_grad, (
        "fn(x) returned a tensor that requires grad: the baseline is inference only — run "
        "the model under torch.inference_mode() (or torch.no_grad())")
    want = baseline(task.model)(task.x_bench)
    err = (out - want).abs().max().item()
    assert err <= 1e-5, (f"fn(x) differs from model(x) by up to {err:.3g} (allowed 1e-5): "
                         "the baseline is the model itself in float32, nothing changed")


class Spy:
    """fn wrapped: counts calls, remembers the inputs and torch's thread count in each."""

    def __init__(self, fn):
        self.fn, self.calls, self.foreign, self.threads = fn, 0, 0, set()
        self.inputs = None

    def __call__(self, x):
        self.calls += 1
        self.foreign += x is not self.inputs
        self.threads.add(torch.get_num_threads())
        return self.fn(x)


def fast(x):
    """A call of a few microseconds: a sample of the benchmark then holds many of them."""
    return torch.relu(x)


@pytest.fixture(scope="module")
def spied(solution, task):
    """The learner's benchmark of a fast function on one image, torch set to CALLER_THREADS
    beforehand; the spy's counts are read as benchmark leaves them."""
    spy = Spy(fast)
    spy.inputs = task.x_bench[:1].clone()
    torch.set_num_threads(CALLER_THREADS)
    try:
        record = solution.benchmark(spy, spy.inputs, name="relu, one image")
        after = torch.get_num_threads()
    finally:
        torch.set_num_threads(1)
    return spy, record, after, (spy.calls, spy.foreign, set(spy.threads))


def test_benchmark_times_one_thread_and_restores_the_setting(spied):
    _, _, after, (calls, _, threads) = spied
    assert calls > 0, "benchmark never called fn"
    assert threads == {1}, (
        f"fn ran with {sorted(threads)} torch thread(s): time it with "
        f"torch.set_num_threads(1) (the caller had {CALLER_THREADS})")
    assert after == CALLER_THREADS, (
        f"torch's thread count is {after} after benchmark returned; the caller had set "
        f"{CALLER_THREADS}: restore it (read the caller's count first, try/finally)")


def test_benchmark_restores_the_thread_count_when_fn_raises(solution, task):
    def broken(x):
        raise RuntimeError("a function under test that fails")

    torch.set_num_threads(CALLER_THREADS)
    try:
        with contextlib.suppress(Exception):
            solution.benchmark(broken, task.x_bench[:1], name="raises")
        after = torch.get_num_threads()
    finally:
        torch.set_num_threads(1)
    assert after == CALLER_THREADS, (
        f"fn raised and torch's thread count stayed at {after} (the caller had "
        f"{CALLER_THREADS}): restore it also when fn raises (try/finally)")


def test_benchmark_times_the_threads_cpu_time(solution, task):
    def sleepy(x):
        time.sleep(SLEEP_S)
        return x

    record = solution.benchmark(sleepy, task.x_bench[:1], name="sleeps")
    problems = record_problems(record, name="the record")
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)
    if record["median_ms"] >= SLEEP_S * 1e3 / 2:
        pytest.fail(f"a function that sleeps {SLEEP_S * 1e3:g} ms per call (and computes almost "
                    f"nothing) got a median of {record['median_ms']:.3g} ms: that is wall-clock "
                    "time; time with timer=time.thread_time (the thread's CPU time), as the "
                    "record's 'timer' says", pytrace=False)


def test_benchmark_calls_fn_on_the_inputs_given(spied):
    _, _, _, (calls, foreign, _) = spied
    assert foreign == 0, (
        f"{foreign} of {calls} calls got something other than the inputs given: call "
        "fn(inputs) itself (no slicing, copying or other batches)")


def test_benchmark_record_schema_and_statistics(spied):
    _, record, _, (calls, _, _) = spied
    problems = record_problems(record, name="the record")
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)
    assert record["name"] == "relu, one image", (
        f"record['name'] is {record['name']!r}: use the name passed to benchmark")
    timed = 1 + (record["warmup"] + record["repeats"]) * record["block"]
    assert calls >= timed, (
        f"fn was called {calls} times, but one untimed first call, {record['warmup']} "
        f"warm-up and {record['repeats']} timed samples of {record['block']} call(s) each "
        f"need at least {timed}: the record does not describe what was run")


def agree(learner_ms: float, grader_ms: float, what: str) -> None:
    ratio = learner_ms / grader_ms
    if not 1 / FACTOR <= ratio <= FACTOR:
        hint = (" — seconds reported as milliseconds?" if ratio < 0.01
                else " — the time of a whole block, not divided by the calls in it?"
                if ratio > FACTOR else "")
        pytest.fail(f"{what}: your record says a median of {learner_ms:.4g} ms per call, the "
                    f"grader measured {grader_ms:.4g} ms (ratio {ratio:.3g}, allowed "
                    f"{1 / FACTOR:.3g}–{FACTOR:.3g}){hint}", pytrace=False)


def grader_ms(bench, fn, x, name):
    torch.set_num_threads(1)  # whatever the learner's benchmark left behind
    m = bench.measure(fn, x, name=name, timer=time.thread_time, memory=False, max_time_s=1.0)
    return m.median_s * 1e3


def test_fast_calls_agree_with_the_graders_measurement(spied, bench, record_metric):
    spy, record, _, _ = spied
    if record_problems(record):
        pytest.fail("the record is malformed (see the schema check)", pytrace=False)
    want = grader_ms(bench, spy, spy.inputs, "relu, one image")
    record_metric("fast_call_median_ratio", record["median_ms"] / want, unit="x")
    agree(record["median_ms"], want, "a fast function (relu of one image)")


def test_the_baseline_entry_agrees_with_the_graders_measurement(solution, prepared, task,
                                                                bench, record_metric):
    fn, _ = prepared
    record = solution.benchmark(fn, task.x_bench, name="fp32 eager")
    problems = record_problems(record, name="the baseline record")
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)
    want = grader_ms(bench, baseline(task.model), task.x_bench, f"fp32 eager, batch {BENCH_BATCH}")
    record_metric("baseline_median", record["median_ms"], unit="ms")
    record_metric("baseline_median_grader", want, unit="ms")
    agree(record["median_ms"], want, f"the baseline at batch {BENCH_BATCH}")

"""Day 110 grader: the learner's Batcher on scripted arrival patterns (pure asyncio, cheap,
first), then the learner's service started for real on loopback twice — with batching and
with max_batch=1 — driven by the grader's own concurrent load (graders/load.py). Every answer
is compared with the model run directly, the p99 latency with the SLO, the device's own call
log with the batches the service claims to form, and the two throughputs with each other."""

import asyncio
import contextlib
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from graders import load, service
from graders.data.serving import CALL_LOG_ENV, direct_logits, eval_rows

torch.set_num_threads(1)

STEP_S = 3.0  # a Batcher scenario step that takes longer than this has hung
SLACK_S = 0.12  # scheduling slack allowed on top of max_wait on a busy 2-core machine
MAX_BATCH, MAX_WAIT_MS, CONCURRENCY = 16, 5.0, 24
N_BATCHED, N_UNBATCHED = 96, 12
P99_SLO_S = 4.0
LOGITS_ATOL = 1e-4
START_S = 90.0  # imports and the model: ~3 s idle, 25 s seen here under load 24
MIN_MEAN_BATCH = 3.0


class Recorder:
    """A run_batch that records each batch (when it ran, what it held) and answers 10*i + 1."""

    def __init__(self, fail_on=None):
        self.batches, self.times, self.fail_on = [], [], fail_on

    def __call__(self, items):
        self.times.append(time.monotonic())
        self.batches.append(list(items))
        if self.fail_on is not None and self.fail_on in items:
            raise ValueError(f"bad item {self.fail_on}")
        return [10 * i + 1 for i in items]


NOT_FLUSHED = ("a batch that holds fewer than max_batch items must still run once max_wait_ms "
               "has passed since its first item arrived")


async def _step(awaitable, what, why=NOT_FLUSHED):
    try:
        return await asyncio.wait_for(awaitable, STEP_S)
    except TimeoutError:
        pytest.fail(f"{what} was not answered within {STEP_S:g} s: {why}", pytrace=False)


def _scenario(solution, coro_fn, **kwargs):
    async def main():
        batcher = solution.Batcher(kwargs.pop("run_batch"), **kwargs)
        try:
            result = await coro_fn(batcher)
        finally:
            try:
                await asyncio.wait_for(batcher.close(), STEP_S)
            except TimeoutError:
                pytest.fail(f"Batcher.close() did not return within {STEP_S:g} s",
                            pytrace=False)
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if others:  # a cancelled task needs a few loop turns to finish: allow 0.1 s
            await asyncio.wait(others, timeout=0.1)
        running = [t for t in others if not t.done()]
        if running:
            pytest.fail(f"Batcher.close() returned with {len(running)} task(s) still running "
                        f"({running[0].get_coro()!r}): close() must stop the worker task "
                        "(cancel it and await it)", pytrace=False)
        return result
    return asyncio.run(main())


def test_bad_settings_are_refused(solution):
    for kwargs in ({"max_batch": 0, "max_wait_ms": 5.0}, {"max_batch": 4, "max_wait_ms": -1.0}):
        try:
            solution.Batcher(Recorder(), **kwargs)
        except ValueError:
            continue
        pytest.fail(f"Batcher(run_batch, **{kwargs}) must raise ValueError", pytrace=False)
    try:  # the bounds themselves are valid settings
        solution.Batcher(Recorder(), max_batch=1, max_wait_ms=0.0)
    except ValueError as exc:
        pytest.fail(f"Batcher(run_batch, max_batch=1, max_wait_ms=0.0) raised {exc!r}: both "
                    "are valid settings and must be accepted (only max_batch < 1 or "
                    "max_wait_ms < 0 is refused)", pytrace=False)


def test_full_batches_run_at_once_and_answers_go_back_to_their_callers(solution):
    rec = Recorder()

    async def go(b):
        t0 = time.monotonic()
        answers = await _step(asyncio.gather(*(b.submit(i) for i in range(10))),
                              "a burst of 10 items with max_batch=4")
        return t0, answers

    t0, answers = _scenario(solution, go, run_batch=rec, max_batch=4, max_wait_ms=400.0)
    assert answers == [10 * i + 1 for i in range(10)], (
        f"the callers of items 0..9 got {answers}, run_batch answered "
        f"{[10 * i + 1 for i in range(10)]}: each answer must go back to the caller whose item "
        "it answers (answers scattered to the wrong requests)")
    assert rec.batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], (
        f"10 items submitted at once with max_batch=4 ran as batches {rec.batches}; expected "
        "[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] (full batches of max_batch, in arrival order)")
    for k in (0, 1):
        assert rec.times[k] - t0 < 0.4 - SLACK_S, (
            f"full batch {k} ran {rec.times[k] - t0:.3f} s after its items arrived: a batch that "
            "holds max_batch items runs at once, without waiting for max_wait_ms (0.4 s)")


def test_batches_form_as_specified_on_a_scripted_arrival_pattern(solution):
    rec, wait = Recorder(), 0.3
    arrived = {}

    async def go(b):
        t0 = time.monotonic()

        def send(i):
            arrived[i] = time.monotonic()
            return asyncio.ensure_future(b.submit(i))

        async def until(t):
            await asyncio.sleep(max(0.0, t0 + t - time.monotonic()))

        pending = [send(i) for i in (0, 1, 2)]
        await until(0.05)
        pending += [send(3), send(4)]
        await until(0.70)
        pending.append(send(5))
        await until(0.90)
        pending.append(send(6))
        return await _step(asyncio.gather(*pending), "the scripted arrivals")

    answers = _scenario(solution, go, run_batch=rec, max_batch=4, max_wait_ms=wait * 1e3)
    want = [[0, 1, 2, 3], [4], [5, 6]]
    assert rec.batches == want, (
        f"max_batch=4, max_wait_ms=300; items 0-2 at t=0, 3-4 at t=0.05 s, 5 at t=0.7 s, 6 at "
        f"t=0.9 s ran as batches {rec.batches}; expected {want}: a batch runs when it holds "
        "max_batch items or when max_wait_ms have passed since its first item arrived")
    assert answers == [10 * i + 1 for i in range(7)], (
        f"the callers of items 0..6 got {answers}: each answer must go back to its own caller")
    full = rec.times[0] - arrived[3]
    assert full < wait - 0.1, (
        f"the first batch filled up at t=0.05 s but ran {full:.3f} s later: a full batch runs "
        "at once, it does not wait for max_wait_ms")
    for k, first in ((1, 4), (2, 5)):
        waited = rec.times[k] - arrived[first]
        assert waited >= 0.8 * wait, (
            f"batch {want[k]} ran {waited:.3f} s after its first item arrived: a batch that is "
            f"not full waits max_wait_ms ({wait * 1e3:g} ms) for more items before it runs")
        assert waited <= wait + SLACK_S, (
            f"batch {want[k]} ran {waited:.3f} s after its first item arrived; max_wait_ms is "
            f"{wait * 1e3:g} ({wait:g} s, +{SLACK_S:g} s slack allowed): the wait counts from "
            "the batch's first item, not from the latest one")


class SlowFirst(Recorder):
    """A Recorder whose first batch takes RUN_S to run (a busy device)."""

    RUN_S = 0.33

    def __call__(self, items):
        answers = super().__call__(items)
        if len(self.batches) == 1:
            time.sleep(self.RUN_S)
        return answers


def test_the_wait_counts_from_arrival_even_while_a_batch_runs(solution):
    # item 2 arrives 0.05 s into a 0.33 s run: its deadline (0.35 s) has nearly passed when the
    # worker is free again, so it runs then; a clock started when the worker takes it runs it
    # at 0.63 s. (A run_batch called on the event loop delays the arrival itself: fine too.)
    rec, wait = SlowFirst(), 0.3
    arrived = {}

    async def go(b):
        t0 = time.monotonic()

        def send(i):
            arrived[i] = time.monotonic()
            return asyncio.ensure_future(b.submit(i))

        pending = [send(0), send(1)]
        await asyncio.sleep(max(0.0, t0 + 0.05 - time.monotonic()))
        pending.append(send(2))
        return await _step(asyncio.gather(*pending), "an item that arrived during a run")

    answers = _scenario(solution, go, run_batch=rec, max_batch=2, max_wait_ms=wait * 1e3)
    assert rec.batches == [[0, 1], [2]] and answers == [1, 11, 21], (
        f"max_batch=2; items 0, 1 at t=0, item 2 at t=0.05 s ran as batches {rec.batches} "
        f"and answered {answers}; expected [[0, 1], [2]] and [1, 11, 21]")
    waited = rec.times[1] - arrived[2]
    assert waited <= wait + SLACK_S, (
        f"item 2 arrived while batch [0, 1] ran ({SlowFirst.RUN_S:g} s) and its batch ran "
        f"{waited:.3f} s after it arrived; max_wait_ms is {wait * 1e3:g} (+{SLACK_S:g} s slack): "
        "a batch's wait counts from its arrival, not from when the worker takes it after "
        "the previous batch")


def test_max_batch_1_runs_every_item_alone_and_at_once(solution):
    rec = Recorder()

    async def go(b):
        return await _step(asyncio.gather(*(b.submit(i) for i in range(5))),
                           "a burst of 5 items with max_batch=1")

    t0 = time.monotonic()
    answers = _scenario(solution, go, run_batch=rec, max_batch=1, max_wait_ms=1000.0)
    assert rec.batches == [[i] for i in range(5)], (
        f"with max_batch=1, 5 items ran as batches {rec.batches}: expected one item per batch")
    assert answers == [10 * i + 1 for i in range(5)], f"the callers got {answers}"
    assert time.monotonic() - t0 < 1.0, (
        "with max_batch=1 every batch is full as soon as it holds its item: none may wait "
        "max_wait_ms (1 s)")


def test_a_failing_batch_fails_its_callers_and_the_batcher_goes_on(solution):
    rec = Recorder(fail_on=-1)

    async def go(b):
        first = await _step(asyncio.gather(b.submit(7), b.submit(-1), return_exceptions=True),
                            "a batch whose run_batch raised",
                            "every caller of a failed batch must get run_batch's exception "
                            "(did the exception stop the worker?)")
        later = await _step(b.submit(5), "an item submitted after a failed batch",
                            "an exception in run_batch must not stop the batcher")
        return first, later

    first, later = _scenario(solution, go, run_batch=rec, max_batch=2, max_wait_ms=50.0)
    for item, got in zip((7, -1), first, strict=True):
        assert isinstance(got, ValueError), (
            f"run_batch raised ValueError on the batch [7, -1], but submit({item}) returned "
            f"{got!r}: every caller of a failed batch must get that exception")
    assert later == 51, f"after a failed batch, submit(5) returned {later!r}, not 51"


# ---- the service, started for real -------------------------------------------------------

def _bodies(n):
    rows = eval_rows(N_BATCHED)
    return [{"pixels": rows[i % N_BATCHED].tolist()} for i in range(n)]


def _start(solution_dir, log, max_batch):
    argv = lambda port: service.python_call(solution_dir, "solution:run", port, max_batch,  # noqa: E731
                                            MAX_WAIT_MS)
    return service.serve(argv, ready=service.http_ready("/health"), start_timeout_s=START_S,
                         env={CALL_LOG_ENV: str(log)})


def _drive(svc, log, max_batch, n):
    """Warm the service up, then send it n requests at CONCURRENCY (the warm-up not logged)."""
    import httpx

    out = {"port": svc.port}
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        out["malformed"] = [client.post(svc.url + "/predict", json=body).status_code
                            for body in ({"pixels": [0.5] * 63}, {"image": [0.5] * 64})]
    warm = load.post_all(svc.url + "/predict", _bodies(8), concurrency=8, timeout_s=5.0,
                         deadline_s=8.0)
    if not all(s.ok for s in warm):
        svc.check_alive()
        bad = next(s for s in warm if not s.ok)
        pytest.fail(f"the service (max_batch={max_batch}) did not answer 8 concurrent "
                    f"warm-up requests within 5 s: got {bad.status} {str(bad.body)[:200]}",
                    pytrace=False)
    log.write_text("")  # the warm-up's calls do not count
    out["shots"] = load.post_all(svc.url + "/predict", _bodies(n), concurrency=CONCURRENCY,
                                 timeout_s=10.0, deadline_s=40.0)
    svc.check_alive()
    return out


@pytest.fixture(scope="module")
def runs(solution, solution_dir, tmp_path_factory):
    """Both services started at once (each start is mostly imports), driven one after the
    other, then both stopped before any check looks at the results."""
    folder = tmp_path_factory.mktemp("calls")
    logs = {"batched": folder / "batched.log", "unbatched": folder / "unbatched.log"}
    settings = {"batched": (MAX_BATCH, N_BATCHED), "unbatched": (1, N_UNBATCHED)}
    with contextlib.ExitStack() as stack:
        with ThreadPoolExecutor(2) as pool:
            started = {k: pool.submit(stack.enter_context,
                                      _start(solution_dir, logs[k], settings[k][0]))
                       for k in logs}
            svcs = {k: f.result() for k, f in started.items()}
        out = {k: _drive(svcs[k], logs[k], *settings[k]) for k in logs}
    for k, run in out.items():
        run["leftovers"] = service.leftovers(svcs[k])
        run["port_free"] = service.port_free(run["port"])
        run["calls"] = [int(line) for line in logs[k].read_text().split()]
    return out


def test_a_malformed_image_is_answered_422(runs):
    got = runs["batched"]["malformed"]
    assert got == [422, 422], (
        f"POST /predict with 63 pixels, and with no 'pixels' field, answered {got}: a "
        "malformed request must be refused with 422")


@pytest.mark.parametrize("which", ["batched", "unbatched"])
def test_every_answer_equals_the_model_run_directly(runs, which):
    shots = runs[which]["shots"]
    want = direct_logits(eval_rows(N_BATCHED))
    for s in shots:
        if not s.ok:
            pytest.fail(f"request {s.index} of {len(shots)} ({which}) failed: {s.status} "
                        f"{str(s.body)[:300]}", pytrace=False)
        row = want[s.index % N_BATCHED]
        body = s.body if isinstance(s.body, dict) else {}
        try:
            logits = torch.tensor(body["logits"], dtype=torch.float64)
            label = body["label"]
        except (KeyError, TypeError, ValueError, RuntimeError):
            pytest.fail(f"request {s.index} ({which}) answered {str(s.body)[:200]}: expected "
                        '{"label": int, "logits": [10 floats]}', pytrace=False)
        if logits.shape != (10,) or not isinstance(label, int) or isinstance(label, bool):
            pytest.fail(f"request {s.index} ({which}) answered {str(s.body)[:200]}: expected "
                        '{"label": int, "logits": [10 floats]}', pytrace=False)
        err = float((logits - row.double()).abs().max())
        if label != int(row.argmax()) or err > LOGITS_ATOL:
            pytest.fail(f"request {s.index} ({which}, image {s.index}) got label {label} and "
                        f"logits off by {err:.3g}; the model run directly gives label "
                        f"{int(row.argmax())} (logits within {LOGITS_ATOL:g}): answers went to the "
                        "wrong requests, or the wrong rows were run", pytrace=False)


def test_p99_latency_is_within_the_slo(runs, record_metric):
    lat = [s.latency_s for s in runs["batched"]["shots"]]
    p99 = load.percentile(lat, 99)
    verdict = "PASS" if p99 <= P99_SLO_S else "FAIL"
    record_metric("p99_latency", p99 * 1e3, unit="ms", target=f"<= {P99_SLO_S * 1e3:g}",
                  verdict=verdict)
    assert p99 <= P99_SLO_S, (
        f"p99 latency {p99 * 1e3:.0f} ms over {len(lat)} requests at concurrency {CONCURRENCY} "
        f"exceeds the SLO of {P99_SLO_S * 1e3:g} ms")


def test_the_device_saw_batches(runs):
    calls, n = runs["batched"]["calls"], N_BATCHED
    assert sum(calls) == n, (
        f"{n} requests were answered but the model was called on {sum(calls)} rows in all: "
        "run each request's row through ServedModel exactly once")
    assert max(calls) <= MAX_BATCH, (
        f"a model call held {max(calls)} rows, more than max_batch={MAX_BATCH}: run must "
        "pass its max_batch on to the batcher, and a batch never holds more")
    mean = n / len(calls)
    assert mean >= MIN_MEAN_BATCH, (
        f"under {CONCURRENCY} concurrent requests the model ran {len(calls)} calls of "
        f"{mean:.1f} rows on average (at least {MIN_MEAN_BATCH:g} expected): the service does "
        "not batch requests")


def test_max_batch_1_switches_batching_off(runs):
    calls = runs["unbatched"]["calls"]
    assert sum(calls) == N_UNBATCHED and set(calls) == {1}, (
        f"run(port, max_batch=1) called the model with batches of {sorted(set(calls))} rows: "
        "run must pass its max_batch on to the batcher")


def test_batching_multiplies_throughput(runs, bench, record_metric):
    on = load.throughput(runs["batched"]["shots"])
    off = load.throughput(runs["unbatched"]["shots"])
    record_metric("throughput_batched", on, unit="req/s")
    record_metric("throughput_unbatched", off, unit="req/s")
    bench.check_value("batching_speedup", on / off)


def test_nothing_is_left_running(runs):
    for which, run in runs.items():
        assert not run["leftovers"], (
            f"processes {run['leftovers']} of the {which} service were still running after it "
            "was stopped")
        assert run["port_free"], f"port {run['port']} was still taken after the {which} run"

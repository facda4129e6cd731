"""Day 121 grader: the learner's benchmark client is first run against the grader's own gRPC
server, whose every call takes a known time (so the true latency, concurrency and throughput
are known); then the learner's gRPC inference server is started on loopback, every answer is
checked against the model run directly, bad input must get INVALID_ARGUMENT, the learner's
figures for their own server must agree with the grader's client, and SIGTERM must stop the
server cleanly with nothing left behind."""

import math
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch

from graders import service
from graders.data.capstone2 import load_task
from graders.load import percentile

torch.set_num_threads(1)
HERE = Path(__file__).parent
PROTO = HERE / "data" / "digits.proto"
DELAY_S, PROBE_N, PROBE_CONCURRENCY = 0.020, 48, 4
# images the grader's server refuses (UNAVAILABLE, after the delay): every fourth, so that
# counting failed calls as answered inflates throughput by 48/36, far beyond any timing noise
PROBE_FAILS = tuple(range(3, PROBE_N, 4))
STALL_TIMEOUT_S, STALL_WAIT_S = 0.5, 5.0  # the deadline asked for vs how long the grader waits
N_CHECK, CONCURRENCY = 160, 8
ATOL, RTOL = 1e-4, 1e-4
FIGURE_RATIO = 3.0  # the learner's figures vs the grader's, on the learner's server
FIGURE_ATTEMPTS = 3
START_TIMEOUT_S, STOP_GRACE_S = 30.0, 10.0


@pytest.fixture(scope="session", autouse=True)
def stubs(tmp_path_factory):
    """digits_pb2 / digits_pb2_grpc generated from the day's .proto, importable here and in
    the server (before the solution is imported)."""
    out = tmp_path_factory.mktemp("stubs")
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO.parent}",
                    f"--python_out={out}", f"--grpc_python_out={out}", PROTO.name],
                   check=True, capture_output=True)
    sys.path.insert(0, str(out))
    return out


@pytest.fixture(scope="module")
def task():
    t = load_task()
    t.model.eval()
    return t


def _rpc(stub_module: str):
    import digits_pb2
    import digits_pb2_grpc
    return digits_pb2 if stub_module == "pb" else digits_pb2_grpc


# ---- the learner's client against the grader's server ---------------------------------------


class Probe:
    """A Digits servicer whose calls each take DELAY_S; it counts calls in flight and answers
    image i (found by its pixels) with label i % 10, so the client's order shows; images
    PROBE_FAILS fail with UNAVAILABLE."""

    def __init__(self, images: np.ndarray):
        self.index = {row.tobytes(): i for i, row in enumerate(images)}
        self.lock = threading.Lock()
        self.in_flight = self.max_in_flight = 0
        self.seen: list[int] = []
        self.first = math.inf
        self.last = 0.0

    def Predict(self, request, context):
        pb = _rpc("pb")
        start = time.perf_counter()
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.first = min(self.first, start)
        i = self.index.get(np.asarray(request.pixels, dtype=np.float32).tobytes(), -1)
        time.sleep(DELAY_S)
        with self.lock:
            self.in_flight -= 1
            self.seen.append(i)
            self.last = max(self.last, time.perf_counter())
        if i in PROBE_FAILS:
            import grpc
            context.abort(grpc.StatusCode.UNAVAILABLE, "the grader's server refuses this one")
        logits = [0.0] * 10
        if i >= 0:
            logits[i % 10] = 1.0
        return pb.PredictReply(logits=logits, label=i % 10 if i >= 0 else -1)


@pytest.fixture(scope="module")
def probed(solution, task):
    import grpc
    images = task.x_eval[:PROBE_N].numpy().reshape(PROBE_N, 8, 8).copy()
    assert len({r.tobytes() for r in images}) == PROBE_N
    probe = Probe(images.reshape(PROBE_N, 64))
    server = grpc.server(ThreadPoolExecutor(max_workers=2 * PROBE_CONCURRENCY + 4))
    _rpc("grpc").add_DigitsServicer_to_server(probe, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        result = solution.benchmark(f"127.0.0.1:{port}", images.copy(),
                                    concurrency=PROBE_CONCURRENCY)
    finally:
        server.stop(grace=None)
    return probe, result


KEYS = {"n": int, "concurrency": int, "errors": int, "latencies_ms": list, "labels": list,
        "p50_ms": float, "p99_ms": float, "throughput_rps": float}


def _shape_problems(result, n: int) -> str:
    if not isinstance(result, dict):
        return f"benchmark returned a {type(result).__name__}, not a dict"
    for key, kind in KEYS.items():
        if key not in result:
            return f"benchmark's dict has no {key!r} (keys: {sorted(result)})"
        value = result[key]
        ok = (isinstance(value, (int, float, np.floating, np.integer)) and not
              isinstance(value, bool)) if kind is float else isinstance(value, kind)
        if not ok:
            return f"benchmark's {key!r} is a {type(value).__name__}, expected {kind.__name__}"
    for key in ("latencies_ms", "labels"):
        if len(result[key]) != n:
            return f"benchmark's {key!r} has {len(result[key])} entries for {n} images"
    return ""


def test_benchmark_returns_the_documented_record(probed):
    _, result = probed
    problem = _shape_problems(result, PROBE_N)
    assert not problem, problem
    assert result["n"] == PROBE_N and result["concurrency"] == PROBE_CONCURRENCY, (
        f"n={result['n']}, concurrency={result['concurrency']}: expected {PROBE_N} and "
        f"{PROBE_CONCURRENCY} (what was asked)")
    assert result["errors"] == len(PROBE_FAILS), (
        f"errors = {result['errors']}, but the grader's server failed exactly "
        f"{len(PROBE_FAILS)} calls (images {PROBE_FAILS}, status UNAVAILABLE): count the calls "
        "that raised grpc.RpcError")


def test_benchmark_sends_each_image_once_and_keeps_their_order(probed):
    probe, result = probed
    assert not _shape_problems(result, PROBE_N), "see the record check"
    assert sorted(probe.seen) == list(range(PROBE_N)), (
        f"the server received {len(probe.seen)} calls for {PROBE_N} images "
        f"({sum(i < 0 for i in probe.seen)} with pixels that are no image of the batch): send "
        "each image once, its 64 pixels row-major as float32")
    want = [-1 if i in PROBE_FAILS else i % 10 for i in range(PROBE_N)]
    got = [int(v) for v in result["labels"]]
    answered = [i for i in range(PROBE_N) if i not in PROBE_FAILS]
    assert [got[i] for i in answered] == [want[i] for i in answered], (
        "labels are not in the order of the images (the grader's server answers image i with "
        "label i % 10): put each reply at its image's index, not in completion order")
    assert got == want, (
        f"labels of the failed calls (images {PROBE_FAILS}) are "
        f"{[got[i] for i in PROBE_FAILS]}: a failed call's label is -1")


def test_benchmark_keeps_concurrency_calls_in_flight(probed):
    probe, _ = probed
    assert probe.max_in_flight == PROBE_CONCURRENCY, (
        f"at most {probe.max_in_flight} call(s) were in flight at once, asked for "
        f"concurrency={PROBE_CONCURRENCY}: keep exactly that many calls outstanding (a thread "
        "pool of that size, or futures/asyncio with a semaphore)")


def test_benchmark_latencies_are_milliseconds_and_percentiles_nearest_rank(probed):
    _, result = probed
    assert not _shape_problems(result, PROBE_N), "see the record check"
    lat = [float(v) for v in result["latencies_ms"]]
    floor_ms = DELAY_S * 1000
    assert min(lat) >= floor_ms * 0.99, (
        f"the shortest latency is {min(lat):.4g}, yet every call took ≥ {floor_ms:g} ms on the "
        "server: latencies must be in milliseconds, per call (send to reply)")
    assert max(lat) < 100 * floor_ms, (
        f"the longest latency is {max(lat):.4g} ms for calls that take ~{floor_ms:g} ms: "
        "milliseconds, not microseconds?")
    for q, key in ((50, "p50_ms"), (99, "p99_ms")):
        want = percentile(lat, q)
        got = float(result[key])
        assert abs(got - want) <= 1e-9 * max(1.0, want), (
            f"{key} = {got:.6g}, but the nearest-rank {q}th percentile of your own "
            f"latencies_ms is {want:.6g} (sorted, index ceil({q}/100·n) − 1; no interpolation)")


def test_benchmark_throughput_is_calls_over_the_runs_wall_time(probed):
    probe, result = probed
    assert not _shape_problems(result, PROBE_N), "see the record check"
    span = probe.last - probe.first  # the server's first arrival to its last answer
    ceiling = (PROBE_N - len(PROBE_FAILS)) / span
    got = float(result["throughput_rps"])
    # the run's wall time holds the server's span (first arrival to last reply), so answered
    # calls over it can never exceed the server's rate: only a clock's drift is allowed for
    assert got <= ceiling * 1.001, (
        f"throughput_rps = {got:.4g}, more than the server's own {ceiling:.4g} answered calls/s "
        f"over the same calls: count answered calls only ({len(PROBE_FAILS)} of {PROBE_N} "
        "failed), over the wall time of the whole run (which holds the server's span)")
    assert got >= ceiling / 2, (
        f"throughput_rps = {got:.4g} while the server answered {ceiling:.4g} calls/s: "
        "throughput is answered calls over the wall time of the whole run (first send to last "
        "reply), not over the sum of the latencies")


def test_benchmark_gives_every_call_the_deadline_timeout_s(solution):
    """Against a server that never answers (until the grader gives up), every call must fail
    when its deadline of timeout_s passes: an error, label -1, a latency of about timeout_s."""
    import grpc
    release = threading.Event()

    class Stalled:
        def Predict(self, request, context):
            release.wait(STALL_WAIT_S + 5)
            return _rpc("pb").PredictReply(logits=[0.0] * 10, label=0)

    server = grpc.server(ThreadPoolExecutor(max_workers=4))
    _rpc("grpc").add_DigitsServicer_to_server(Stalled(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    images = np.zeros((2, 8, 8), np.float32)
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = solution.benchmark(f"127.0.0.1:{port}", images, concurrency=2,
                                                   timeout_s=STALL_TIMEOUT_S)
        except BaseException as exc:  # reported below, in the grading thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(STALL_WAIT_S)
    stuck = worker.is_alive()
    release.set()
    worker.join(5)
    server.stop(grace=None)
    assert not stuck, (
        f"benchmark(timeout_s={STALL_TIMEOUT_S:g}) against a server that never answers was "
        f"still waiting after {STALL_WAIT_S:g} s: pass timeout_s as each call's deadline "
        "(stub.Predict(request, timeout=timeout_s))")
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    problem = _shape_problems(result, 2)
    assert not problem, problem
    lat = [float(v) for v in result["latencies_ms"]]
    assert result["errors"] == 2 and [int(v) for v in result["labels"]] == [-1, -1], (
        f"errors = {result['errors']}, labels = {result['labels']} when both calls passed their "
        "deadline (DEADLINE_EXCEEDED): expected 2 and [-1, -1]")
    assert min(lat) >= STALL_TIMEOUT_S * 1000 * 0.9, (
        f"latencies {lat} ms for calls that failed at their deadline of "
        f"{STALL_TIMEOUT_S * 1000:g} ms: a failed call's latency runs to its error")


# ---- the learner's server ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(solution, solution_dir, stubs, task, tmp_path_factory):
    model_path = tmp_path_factory.mktemp("model") / "digits_mlp.pt"
    torch.save(task.model.state_dict(), model_path)
    path = os.pathsep.join(filter(None, [str(stubs), os.environ.get("PYTHONPATH")]))
    argv = lambda port: service.python_call(solution_dir, "solution:serve", port,  # noqa: E731
                                            str(model_path))
    with service.serve(argv, ready=service.tcp_ready, start_timeout_s=START_TIMEOUT_S,
                       stop_timeout_s=STOP_GRACE_S, env={"PYTHONPATH": path}) as svc:
        yield svc


def test_the_server_listens_on_loopback_only(server):
    """127.0.0.1:port, not every interface ('[::]:port', '0.0.0.0:port')."""
    exposed = service.exposed_addresses(server)
    assert not exposed, (
        f"the server listens on {exposed[0]!r}, port {server.port}: that is every interface, "
        f"reachable from other machines — bind 127.0.0.1:{server.port} only "
        "(server.add_insecure_port(f'127.0.0.1:{port}'))")


def _grader_run(port: int, images: np.ndarray, concurrency: int):
    """The grader's own client: each image once, `concurrency` in flight; replies in order."""
    import grpc
    pb, pb_grpc = _rpc("pb"), _rpc("grpc")
    replies, latencies = [None] * len(images), [0.0] * len(images)
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = pb_grpc.DigitsStub(channel)
        grpc.channel_ready_future(channel).result(timeout=10)

        def call(i):
            start = time.perf_counter()
            try:
                replies[i] = stub.Predict(pb.PredictRequest(pixels=images[i].tolist()),
                                          timeout=10)
            except grpc.RpcError as exc:
                replies[i] = exc
            latencies[i] = time.perf_counter() - start

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(call, range(len(images))))
        wall = time.perf_counter() - t0
    return replies, latencies, wall


def test_every_answer_matches_the_model(server, task):
    import grpc
    images = task.x_eval[:N_CHECK].numpy().reshape(N_CHECK, 64)
    with torch.inference_mode():
        want = task.model(task.x_eval[:N_CHECK]).numpy()
    replies, _, _ = _grader_run(server.port, images, CONCURRENCY)
    server.check_alive()
    failed = [(i, r) for i, r in enumerate(replies) if isinstance(r, grpc.RpcError)]
    if failed:
        i, r = failed[0]
        pytest.fail(f"{len(failed)} of {N_CHECK} Predict calls failed; image {i}: "
                    f"{r.code().name} {r.details()!r}", pytrace=False)
    bad_len = [i for i, r in enumerate(replies) if len(r.logits) != 10]
    assert not bad_len, f"reply {bad_len[0]} has {len(replies[bad_len[0]].logits)} logits, not 10"
    got = np.array([list(r.logits) for r in replies], dtype=np.float32)
    off = ~np.isclose(got, want, atol=ATOL, rtol=RTOL).all(axis=1)
    if off.any():
        i = int(np.argmax(off))
        pytest.fail(f"{int(off.sum())} of {N_CHECK} answers differ from the model run directly "
                    f"(atol {ATOL:g}, rtol {RTOL:g}); image {i}: logits {got[i][:4]}… vs "
                    f"{want[i][:4]}… — pixels are row-major 8x8, the model in eval mode",
                    pytrace=False)
    labels = np.array([r.label for r in replies])
    wrong = np.flatnonzero(labels != got.argmax(1))
    assert not len(wrong), (
        f"reply {wrong[0]}: label {labels[wrong[0]]} is not the argmax of its own logits "
        f"({got[wrong[0]].argmax()})")


@pytest.mark.parametrize("pixels,why", [
    ([0.5] * 63, "63 pixels"), ([0.5] * 65, "65 pixels"), ([], "no pixels"),
    ([0.5] * 31 + [float("nan")] + [0.5] * 32, "a NaN pixel"),
    ([0.5] * 63 + [float("inf")], "an infinite pixel")],
    ids=["63", "65", "empty", "nan", "inf"])
def test_bad_input_gets_invalid_argument(server, pixels, why):
    import grpc
    pb, pb_grpc = _rpc("pb"), _rpc("grpc")
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = pb_grpc.DigitsStub(channel)
        try:
            reply = stub.Predict(pb.PredictRequest(pixels=pixels), timeout=10)
        except grpc.RpcError as exc:
            code = exc.code()
        else:
            pytest.fail(f"a request with {why} was answered (label {reply.label}): it must fail "
                        "with status INVALID_ARGUMENT", pytrace=False)
    server.check_alive()
    assert code == grpc.StatusCode.INVALID_ARGUMENT, (
        f"a request with {why} failed with {code.name}: it must be INVALID_ARGUMENT "
        "(context.abort(grpc.StatusCode.INVALID_ARGUMENT, ...)), checked before the model runs")


def _disagreement(theirs: dict, around: list[tuple[float, float]]) -> str:
    """Why the learner's p50/throughput lie outside FIGURE_RATIO of the grader's runs around
    theirs ('' when they agree)."""
    p50s, rates = [r[0] for r in around], [r[1] for r in around]
    for name, got, low, high in (
            ("p50_ms", float(theirs["p50_ms"]), min(p50s), max(p50s)),
            ("throughput_rps", float(theirs["throughput_rps"]), min(rates), max(rates))):
        if not low / FIGURE_RATIO <= got <= high * FIGURE_RATIO:
            return (f"your benchmark reports {name} = {got:.4g} for your server; the grader's "
                    f"client measured {low:.4g}–{high:.4g} just before and after, on the same "
                    f"server, images and concurrency {CONCURRENCY} (allowed: within a factor "
                    f"{FIGURE_RATIO:g})")
    return ""


def test_the_learners_figures_agree_with_the_graders_client(solution, server, task,
                                                            record_metric):
    images = task.x_eval[:N_CHECK].numpy().reshape(N_CHECK, 8, 8).copy()
    flat = images.reshape(N_CHECK, 64)
    with torch.inference_mode():
        want = task.model(task.x_eval[:N_CHECK]).argmax(1).tolist()

    def graders():
        _, lat, wall = _grader_run(server.port, flat, CONCURRENCY)
        return percentile(lat, 50) * 1000, N_CHECK / wall

    # grader, learner, grader; a burst of load on a shared machine can hit one run, so a
    # disagreement is measured again (up to FIGURE_ATTEMPTS times): a wrong figure never agrees
    previous = graders()
    for _ in range(FIGURE_ATTEMPTS):
        theirs = solution.benchmark(f"127.0.0.1:{server.port}", images.copy(),
                                    concurrency=CONCURRENCY)
        after = graders()
        server.check_alive()
        problem = _shape_problems(theirs, N_CHECK)
        assert not problem, problem
        assert theirs["errors"] == 0, (
            f"your benchmark counted {theirs['errors']} failed call(s) against your server")
        assert [int(v) for v in theirs["labels"]] == want, (
            "benchmark's labels against your server differ from the model's argmax, image by "
            "image")
        why = _disagreement(theirs, [previous, after])
        if not why:
            break
        previous = after
    record_metric("learner p50 latency", float(theirs["p50_ms"]), unit="ms")
    record_metric("learner p99 latency", float(theirs["p99_ms"]), unit="ms")
    record_metric("learner throughput", float(theirs["throughput_rps"]), unit="calls/s")
    record_metric("grader p50 latency", after[0], unit="ms")
    record_metric("grader throughput", after[1], unit="calls/s")
    assert not why, f"{why}; {FIGURE_ATTEMPTS} attempts"


def test_the_server_stops_cleanly_on_sigterm(server):
    server.check_alive()
    started = time.monotonic()
    service.stop(server, STOP_GRACE_S)
    took = time.monotonic() - started
    code = server.process.returncode
    assert service.leftovers(server) == [], "processes of the server were left running"
    assert service.port_free(server.port), f"port {server.port} is still taken after the stop"
    assert code == 0, (
        f"after SIGTERM the server exited with code {code} ({took:.1f} s)"
        + (": it was killed by SIGKILL after ignoring SIGTERM for "
           f"{STOP_GRACE_S:g} s" if code == -9 else
           ": SIGTERM killed it — handle SIGTERM (signal.signal) by calling "
           "server.stop(grace) and return from serve, so it exits with code 0"
           if code == -15 else ""))

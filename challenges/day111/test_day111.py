"""Day 111 grader: the learner's percentile and histogram against numpy on fixed samples
(cheap, first), then the learner's load generator against a grader-owned server whose service
time per request is known (graders/data/delay_server.py): the server counts what arrives and
how much is in flight, and the grader measures the same server itself (graders/load.py)."""

import math
import threading
import time

import httpx
import numpy as np
import pytest

from graders import load
from graders.data.delay_server import DelayServer
from graders.service import free_port, port_free

N, CONCURRENCY = 80, 8
# service times: 70 % 30 ms, 20 % 60 ms, 10 % 200 ms, in a fixed shuffled order
DELAYS_S = [0.03] * 56 + [0.06] * 16 + [0.2] * 8
np.random.default_rng(111).shuffle(DELAYS_S)
EDGES_MS = [0.0, 25.0, 50.0, 100.0, 250.0, 1000.0]
STARTUP_S = 1.0  # what the grader makes creating an httpx.AsyncClient cost
RATIO = 2.5  # the learner's percentiles within [1/RATIO, RATIO] of the grader's
QS = (50, 90, 99)
KEYS = ("latencies_ms", "p50_ms", "p90_ms", "p99_ms", "histogram", "throughput_rps", "errors")


def nearest_rank(values, q):
    return float(np.percentile(np.asarray(values, dtype=np.float64), q, method="inverted_cdf"))


def _samples():
    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 10, 99, 100, 101, 1000):
        yield n, rng.lognormal(3.0, 0.8, size=n).round(3)


def test_percentile_is_the_nearest_rank(solution):
    for n, values in _samples():
        for q in (1, 5, 10, 25, 50, 75, 90, 95, 99, 100):
            given = values.tolist()
            got = solution.percentile(given, q)
            if given != values.tolist():
                pytest.fail(f"percentile modified the list of {n} values it was given (sorted "
                            "it in place?): sort a copy, sorted(values)", pytrace=False)
            want = nearest_rank(values, q)
            if not isinstance(got, float | int) or got != want:
                ordered = np.sort(values)
                rank = math.ceil(q * n / 100)
                slip = ""
                if isinstance(got, float | int) and got in ordered:
                    found = int(np.flatnonzero(ordered == got)[0]) + 1
                    slip = f" (that is the value of rank {found})"
                elif isinstance(got, float | int):
                    slip = " (not a value of the sample: interpolated?)"
                pytest.fail(f"percentile of {n} values at q={q} returned {got!r}{slip}; the "
                            f"nearest rank is ceil({q}·{n}/100) = {rank}, the value {want!r} "
                            "(numpy.percentile(method='inverted_cdf'))", pytrace=False)


def test_percentile_refuses_what_has_no_answer(solution):
    for values, q in (([], 50), ([1.0, 2.0], 0), ([1.0, 2.0], 101), ([1.0], -5)):
        try:
            solution.percentile(values, q)
        except ValueError:
            continue
        pytest.fail(f"percentile({values}, {q}) must raise ValueError (empty values, or q "
                    "outside (0, 100])", pytrace=False)


def test_histogram_counts_like_numpy(solution):
    edges = [0.0, 10.0, 20.0, 50.0, 100.0]
    cases = {
        "values on every edge": [0.0, 10.0, 20.0, 50.0, 100.0],
        "values outside the edges": [-1.0, -0.001, 100.001, 150.0, 5.0],
        "a lognormal sample": np.random.default_rng(3).lognormal(3.0, 0.7, 500).round(1).tolist(),
    }
    for what, values in cases.items():
        got = solution.histogram(values, edges)
        want = np.histogram(values, bins=edges)[0].tolist()
        assert isinstance(got, list) and got == want, (
            f"histogram of {what} with edges {edges} returned {got}; numpy.histogram gives "
            f"{want}: bins are [e_i, e_i+1) except the last, [e_-2, e_-1] (a value equal to "
            "the last edge counts in the last bin), and values outside the edges are dropped")
    assert all(type(c) is int for c in got), "histogram must return a list of ints"


def _within(seconds, fn, *args):
    """fn(*args) in a daemon thread: ('ok', value), ('raised', exc) or ('hung', None)."""
    box = []

    def call():
        try:
            box.append(("ok", fn(*args)))
        except Exception as exc:  # noqa: BLE001  (reported by the caller)
            box.append(("raised", exc))

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(seconds)
    return box[0] if box else ("hung", None)


def test_bad_load_settings_are_refused(solution):
    for n, c in ((0, 4), (10, 0)):
        how, got = _within(5.0, solution.run_load, "http://127.0.0.1:9/", n, c, EDGES_MS)
        if how == "raised" and isinstance(got, ValueError):
            continue
        if isinstance(got, NotImplementedError):
            raise got
        did = {"ok": f"returned {str(got)[:100]}", "raised": f"raised {got!r}",
               "hung": "did not return within 5 s"}[how]
        pytest.fail(f"run_load(url, n={n}, concurrency={c}, ...) {did}: it must raise "
                    "ValueError", pytrace=False)


def test_requests_that_fail_are_counted_as_errors(solution):
    url = f"http://127.0.0.1:{free_port()}/"  # nothing listens there: connection refused
    report = solution.run_load(url, 5, 2, list(EDGES_MS), timeout_s=2.0)
    assert isinstance(report, dict), f"run_load returned a {type(report).__name__}, not a dict"
    assert report.get("errors") == 5, (
        f"5 requests to a port nobody listens on gave errors={report.get('errors')!r}, not 5: "
        "a request that fails (refused, timed out, not 200) is an error, not an exception")
    assert report.get("latencies_ms") == [] and report.get("throughput_rps") == 0.0, (
        "with no request answered, latencies_ms must be [] and throughput_rps 0.0; got "
        f"{report.get('latencies_ms')!r} and {report.get('throughput_rps')!r}")
    assert report.get("histogram") == [0] * (len(EDGES_MS) - 1), (
        f"with no request answered the histogram is all zeros, got {report.get('histogram')!r}")
    for q in QS:
        v = report.get(f"p{q}_ms")
        assert isinstance(v, float) and math.isnan(v), (
            f"with no request answered p{q}_ms must be NaN, got {v!r}")


def test_timed_out_requests_are_errors_and_throughput_counts_answers(solution):
    # 3 requests at once: one held 50 ms, two held past timeout_s; n / span would pass for
    # answered / span whenever nothing fails, so this is the case that tells them apart
    with DelayServer([0.05, 1.5, 1.5]) as srv:
        report = solution.run_load(srv.url, 3, 3, list(EDGES_MS), timeout_s=0.5)
    assert isinstance(report, dict), f"run_load returned a {type(report).__name__}, not a dict"
    assert report.get("errors") == 2, (
        f"of 3 requests, 2 were held 1.5 s with timeout_s=0.5: errors={report.get('errors')!r}, "
        "not 2 (timeout_s is each request's timeout; a request not answered within it is an "
        "error)")
    lat = report.get("latencies_ms")
    assert isinstance(lat, list) and len(lat) == 1, (
        f"latencies_ms must hold the 1 answered request's latency, got {lat!r}")
    rps = report.get("throughput_rps")
    assert isinstance(rps, float | int) and rps > 0, f"throughput_rps is {rps!r}"
    # the run lasts at least as long as its one answered request
    assert 1 / rps >= 0.99 * lat[0] / 1e3, (
        f"throughput_rps {rps:.1f} with 1 request answered in {lat[0]:.1f} ms means a run of "
        f"{1e3 / rps:.1f} ms, shorter than that request: throughput counts answered requests "
        "only, not all n")


@pytest.fixture(scope="module")
def runs(solution):
    """The learner's run (client start-up made slow), then the grader's own, same server."""
    real_init = httpx.AsyncClient.__init__

    clients = []

    def slow_init(self, *args, **kwargs):
        if not clients:  # only the first: a client per request fails fast on the count
            time.sleep(STARTUP_S)
        clients.append(self)
        real_init(self, *args, **kwargs)

    out = {"clients": clients}
    with DelayServer(DELAYS_S) as srv:
        httpx.AsyncClient.__init__ = slow_init
        try:
            out["report"] = solution.run_load(srv.url, N, CONCURRENCY, list(EDGES_MS))
        finally:
            httpx.AsyncClient.__init__ = real_init
        # the client may read its last answer before the server's thread has recorded it
        settle = time.monotonic() + 2.0
        while len(srv.service_s) < srv.arrivals and time.monotonic() < settle:
            time.sleep(0.005)
        out["server"] = {"arrivals": srv.arrivals, "methods": dict(srv.methods),
                         "max_in_flight": srv.max_in_flight,
                         "service_ms": [s * 1e3 for s in srv.service_s], "span_s": srv.span_s()}
        srv.reset()
        shots = load.post_all(srv.url, [None] * N, concurrency=CONCURRENCY, timeout_s=10.0,
                              deadline_s=30.0, method="GET")
        out["grader"] = {"latencies_ms": [s.latency_s * 1e3 for s in shots if s.ok],
                         "throughput_rps": load.throughput(shots)}
        out["port"] = srv.port
    out["port_free"] = port_free(out["port"])
    return out


def test_the_report_has_every_field(runs):
    report = runs["report"]
    assert isinstance(report, dict), f"run_load returned a {type(report).__name__}, not a dict"
    missing = [k for k in KEYS if k not in report]
    assert not missing, f"run_load's report lacks {missing} (expected keys: {list(KEYS)})"
    assert report["errors"] == 0, f"run_load reported {report['errors']} errors, expected 0"
    lat = report["latencies_ms"]
    assert isinstance(lat, list) and len(lat) == N, (
        f"latencies_ms must hold one latency per answered request: {N}, got "
        f"{len(lat) if isinstance(lat, list) else type(lat).__name__}")


def test_one_httpx_client_for_the_whole_run(runs):
    made = len(runs["clients"])
    assert made == 1, (
        f"run_load created {made} httpx.AsyncClient(s): use exactly one for the whole run "
        "(a client per request pays its start-up on every request)")


def test_exactly_n_requests_at_the_stated_concurrency(runs):
    srv = runs["server"]
    assert srv["arrivals"] == N, f"the server received {srv['arrivals']} requests, not n={N}"
    assert srv["methods"] == {"GET": N}, (
        f"the server received requests by method {srv['methods']}: run_load sends GET "
        "requests (client.get)")
    most = srv["max_in_flight"]
    assert most <= CONCURRENCY, (
        f"the server saw {most} requests in flight at once: concurrency={CONCURRENCY} must "
        "never be exceeded (a semaphore around each request)")
    assert most == CONCURRENCY, (
        f"at most {most} request(s) were in flight at once, never {CONCURRENCY}: the requests "
        "were sent one after another, not concurrently")


def _latencies(report):
    """The report's latencies_ms, when it is a list of N numbers (else the check fails)."""
    lat = report.get("latencies_ms") if isinstance(report, dict) else None
    if not isinstance(lat, list) or len(lat) != N or not all(
            isinstance(v, float | int) and not isinstance(v, bool) for v in lat):
        pytest.fail(f"latencies_ms must be a list of {N} numbers (one per answered request)",
                    pytrace=False)
    return lat


def test_the_figures_agree_with_the_latencies_reported(runs):
    report = runs["report"]
    lat = _latencies(report)
    for q in QS:
        got, want = report[f"p{q}_ms"], nearest_rank(lat, q)
        assert got == want, (
            f"p{q}_ms is {got!r} but the nearest-rank p{q} of latencies_ms is {want!r}")
    want = np.histogram(lat, bins=EDGES_MS)[0].tolist()
    assert report["histogram"] == want, (
        f"histogram is {report['histogram']} but numpy.histogram(latencies_ms, {EDGES_MS}) "
        f"gives {want}")


def test_latencies_cover_the_whole_request(runs):
    lat = np.sort(np.asarray(_latencies(runs["report"]), dtype=np.float64))
    served = np.sort(np.asarray(runs["server"]["service_ms"]))
    if served.size != lat.size:
        pytest.fail(f"the server answered {served.size} requests but latencies_ms holds "
                    f"{lat.size}", pytrace=False)
    short = np.flatnonzero(lat < served - 1.0)
    assert short.size == 0, (
        f"the {short[0] + 1}-th shortest latency reported is {lat[short[0]]:.2f} ms, but the "
        f"server held the {short[0] + 1}-th shortest request {served[short[0]]:.2f} ms: a "
        "latency runs from sending the request to reading the whole answer, in milliseconds")


def test_percentiles_agree_with_the_grader_s_measurement(runs, record_metric):
    report, mine = runs["report"], runs["grader"]["latencies_ms"]
    _latencies(report)
    for q in QS:
        got, want = report[f"p{q}_ms"], load.percentile(mine, q)
        ratio = got / want
        ok = 1 / RATIO <= ratio <= RATIO
        record_metric(f"p{q}_ratio", ratio, unit="x", target=f"{1 / RATIO:g}-{RATIO:g}",
                      verdict="PASS" if ok else "FAIL")
        assert ok, (
            f"your p{q} is {got:.1f} ms, the grader's own measurement of the same server "
            f"{want:.1f} ms (ratio {ratio:.2f}, allowed {1 / RATIO:g}-{RATIO:g}): time each "
            "request from the moment it is sent — not from when it was queued for a "
            "concurrency slot")


def test_throughput_excludes_client_start_up(runs, record_metric):
    report, server = runs["report"], runs["server"]
    span = N / report["throughput_rps"] if report["throughput_rps"] > 0 else math.inf
    limit = 1.2 * server["span_s"] + 0.15
    record_metric("throughput", report["throughput_rps"], unit="req/s")
    record_metric("grader_throughput", runs["grader"]["throughput_rps"], unit="req/s")
    assert span <= limit, (
        f"throughput_rps {report['throughput_rps']:.1f} means a run of {span:.2f} s, but the "
        f"server saw the requests within {server['span_s']:.2f} s (creating the client took "
        f"{STARTUP_S:g} s here): time from the first request sent to the last answer, not the "
        "client's start-up")
    assert span >= 0.9 * server["span_s"], (
        f"throughput_rps {report['throughput_rps']:.1f} means a run of {span:.2f} s, shorter "
        f"than the {server['span_s']:.2f} s the server saw: n answered / (last answer − first "
        "send)")


def test_the_grader_s_server_is_stopped_and_its_port_free(runs):
    assert runs["port_free"], f"port {runs['port']} was still taken after the load runs"

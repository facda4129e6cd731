"""The server days' harness: a learner's server is started on loopback, and whatever it does,
it is stopped with nothing left running and its port free again."""

from __future__ import annotations

import sys
import textwrap
import time

import psutil
import pytest

from graders import service

HEALTHY = textwrap.dedent("""
    import http.server, sys
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()
        def log_message(self, *a):
            pass
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
""")

# Ignores SIGTERM, and starts a grandchild in a session of its own that ignores it too and
# holds a second port: the worst a learner's server can do to a grader that stops it.
STUBBORN = textwrap.dedent("""
    import os, signal, socket, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    port, extra = int(sys.argv[1]), int(sys.argv[2])
    subprocess.Popen([sys.executable, "-c",
        "import signal, socket, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"s = socket.socket(); s.bind(('127.0.0.1', {extra})); s.listen(); time.sleep(600)"],
        start_new_session=True)
    s = socket.socket(); s.bind(("127.0.0.1", port)); s.listen()
    while True:
        c, _ = s.accept(); c.close()
""")


def script(code: str):
    return lambda port, *extra: [sys.executable, "-c", code, str(port), *map(str, extra)]


def test_a_ready_server_is_driven_then_stopped_and_its_port_freed():
    with service.serve(script(HEALTHY), ready=service.http_ready("/health")) as svc:
        assert svc.alive()
        assert service.http_ready("/health")(svc.port)
        port = svc.port
    assert service.leftovers(svc) == []
    assert service.port_free(port)


def test_a_server_that_ignores_sigterm_and_escapes_its_session_leaves_nothing_behind():
    extra = service.free_port()
    started = time.monotonic()
    with service.serve(lambda port: script(STUBBORN)(port, extra), stop_timeout_s=0.5) as svc:
        deadline = time.monotonic() + 10
        while service.port_free(extra) and time.monotonic() < deadline:
            time.sleep(0.05)
        svc.remember_children()
        assert len(svc.family) == 1, "the grandchild is seen before the stop"
    assert time.monotonic() - started < 15
    assert service.leftovers(svc) == []
    assert service.port_free(svc.port) and service.port_free(extra)


def test_a_server_that_crashes_before_it_is_ready_is_reported_with_its_output():
    crash = "import sys; print('model file missing: weights.pt', flush=True); sys.exit(3)"
    with pytest.raises(service.ServiceCrashed, match="code 3") as info:
        with service.serve(script(crash)):
            pytest.fail("the block must not run")
    assert "weights.pt" in str(info.value)


def test_a_server_that_never_answers_times_out_and_is_killed():
    silent = "import time; time.sleep(600)"
    with pytest.raises(service.ServiceTimeout, match="within 0.5 s"):
        with service.serve(script(silent), start_timeout_s=0.5):
            pytest.fail("the block must not run")
    quiet = [p for p in psutil.process_iter(["cmdline"])
             if p.info["cmdline"] and silent in p.info["cmdline"]]
    assert quiet == []


def test_a_failing_check_inside_the_block_still_stops_the_server():
    with pytest.raises(AssertionError, match="wrong answer"):
        with service.serve(script(HEALTHY), ready=service.http_ready()) as svc:
            raise AssertionError("wrong answer")
    assert service.leftovers(svc) == []


def test_a_server_that_dies_while_driven_is_a_crash_with_its_exit_code():
    with service.serve(script(HEALTHY), ready=service.http_ready()) as svc:
        svc.process.kill()
        svc.process.wait()
        with pytest.raises(service.ServiceCrashed, match="while it was being driven"):
            svc.check_alive()


ECHO = textwrap.dedent("""
    import http.server, json, sys
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_GET(self):
            self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            out = json.dumps({"double": 2 * body["x"]}).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(out)))
            self.end_headers(); self.wfile.write(out)
        def log_message(self, *a):
            pass
    http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
""")


def test_load_sends_every_body_once_and_measures_each_answer():
    from graders import load

    with service.serve(script(ECHO), ready=service.http_ready("/")) as svc:
        shots = load.post_all(svc.url + "/", [{"x": i} for i in range(40)], concurrency=4)
    assert [s.index for s in shots] == list(range(40))
    assert all(s.ok and s.body == {"double": 2 * s.index} for s in shots)
    assert all(s.latency_s > 0 for s in shots) and load.throughput(shots) > 0


def test_load_is_only_ever_sent_to_loopback():
    from graders import load

    with pytest.raises(ValueError, match="loopback"):
        load.post_all("http://example.com/predict", [{}])


def test_percentile_is_nearest_rank():
    from graders.load import percentile

    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 99) == 99.0 and percentile(values, 50) == 50.0
    assert percentile([3.0], 99) == 3.0


def test_a_server_on_every_interface_is_seen_and_one_on_loopback_is_not():
    everywhere = HEALTHY.replace('("127.0.0.1", int(sys.argv[1]))', '("0.0.0.0", int(sys.argv[1]))')
    with service.serve(script(everywhere), ready=service.http_ready()) as svc:
        assert service.exposed_addresses(svc) == ["0.0.0.0"]
    with service.serve(script(HEALTHY), ready=service.http_ready()) as svc:
        assert service.exposed_addresses(svc) == []

"""Day 111's grader-owned server: known service times by arrival, honest counts, clean stop."""

from __future__ import annotations

from graders import load
from graders.data.delay_server import DelayServer
from graders.service import port_free


def test_it_holds_each_request_its_service_time_and_counts_what_arrives():
    delays = [0.05, 0.01, 0.01, 0.01]
    with DelayServer(delays) as srv:
        shots = load.post_all(srv.url, [None] * 8, concurrency=4, method="GET")
        assert all(s.ok for s in shots)
        assert srv.arrivals == 8 and srv.max_in_flight == 4
        assert sorted(srv.service_s)[-1] >= 0.05 and min(srv.service_s) >= 0.01
        assert len(srv.service_s) == 8 and srv.span_s() >= 0.05
        srv.reset()
        assert (srv.arrivals, srv.max_in_flight, srv.service_s) == (0, 0, [])
        port = srv.port
    assert port_free(port)

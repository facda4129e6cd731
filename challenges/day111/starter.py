"""Day 111: a load generator — latency percentiles, a histogram and throughput."""

import asyncio  # noqa: F401  (run_load drives its requests with asyncio)
import time  # noqa: F401  (time.perf_counter for each request's latency)
from collections.abc import Sequence

import httpx  # noqa: F401  (one httpx.AsyncClient for the whole run)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile by nearest rank: the value of rank ceil(q·n/100) (1-based) in
    sorted order. ValueError for no values or q outside (0, 100]."""
    # TODO: sort; k = ceil(q * n / 100), at least 1; return the k-th smallest value
    raise NotImplementedError("percentile")


def histogram(values: Sequence[float], edges: Sequence[float]) -> list[int]:
    """Counts per bin [edges[i], edges[i+1]), the last bin closed; values outside dropped."""
    # TODO: numpy.histogram's bins, counted by hand (a list of len(edges) - 1 ints)
    raise NotImplementedError("histogram")


def run_load(url: str, n: int, concurrency: int, edges_ms: Sequence[float],
             timeout_s: float = 10.0) -> dict:
    """Send n GET requests to url, at most `concurrency` at a time; measure them.

    Returns {"latencies_ms", "p50_ms", "p90_ms", "p99_ms", "histogram", "throughput_rps",
    "errors"} (see the spec)."""
    # TODO: ValueError when n < 1 or concurrency < 1
    # TODO: one httpx.AsyncClient, created before the clock starts; a semaphore of
    #       `concurrency`; each request timed from when it is sent to its whole answer
    # TODO: the figures from the answered requests' latencies (your percentile and histogram)
    raise NotImplementedError("run_load")

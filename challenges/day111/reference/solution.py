"""Day 111: a load generator — latency percentiles, a histogram and throughput."""

import asyncio
import bisect
import math
import time
from collections.abc import Sequence

import httpx


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile by nearest rank: the value of rank ceil(q·n/100) (1-based) in
    sorted order."""
    if not values:
        raise ValueError("no values")
    if not 0 < q <= 100:
        raise ValueError(f"q must be in (0, 100], got {q}")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered) / 100)) - 1]


def histogram(values: Sequence[float], edges: Sequence[float]) -> list[int]:
    """Counts per bin [edges[i], edges[i+1]), the last bin closed; values outside dropped."""
    if len(edges) < 2 or any(edges[i + 1] <= edges[i] for i in range(len(edges) - 1)):
        raise ValueError("edges must hold at least two strictly increasing values")
    counts = [0] * (len(edges) - 1)
    for v in values:
        if v == edges[-1]:
            counts[-1] += 1
        elif edges[0] <= v < edges[-1]:
            counts[bisect.bisect_right(edges, v) - 1] += 1
    return counts


async def _fire(url: str, n: int, concurrency: int, timeout_s: float):
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=timeout_s, limits=limits, trust_env=False) as client:
        async def one():
            async with gate:  # the clock starts once the request may go: no queueing inside
                start = time.perf_counter()
                try:
                    r = await client.get(url)
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                return ok, start, time.perf_counter()

        # the client is ready: only now does the run's clock start
        return await asyncio.gather(*(one() for _ in range(n)))


def run_load(url: str, n: int, concurrency: int, edges_ms: Sequence[float],
             timeout_s: float = 10.0) -> dict:
    """Send n GET requests to url, at most `concurrency` at a time; measure them."""
    if n < 1 or concurrency < 1:
        raise ValueError("n and concurrency must be at least 1")
    shots = asyncio.run(_fire(url, n, concurrency, timeout_s))
    answered = [(s, e) for ok, s, e in shots if ok]
    latencies = [(e - s) * 1e3 for s, e in answered]
    span = (max(e for _, e in answered) - min(s for s, _ in answered)) if answered else 0.0
    return {
        "latencies_ms": latencies,
        "p50_ms": percentile(latencies, 50) if latencies else math.nan,
        "p90_ms": percentile(latencies, 90) if latencies else math.nan,
        "p99_ms": percentile(latencies, 99) if latencies else math.nan,
        "histogram": histogram(latencies, edges_ms),
        "throughput_rps": len(answered) / span if span > 0 else 0.0,
        "errors": n - len(answered),
    }

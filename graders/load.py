"""Bounded HTTP load against a server on loopback, measured by the grader itself.

    from graders.load import post_all, percentile
    shots = post_all(svc.url + "/predict", bodies, concurrency=16, timeout_s=10)
    bad = [s for s in shots if not s.ok]
    p99 = percentile([s.latency_s for s in shots], 99)

Every request is sent once (no retries: a wrong or failed answer is the server's), at most
`concurrency` at a time, each with its own timeout, and the whole run with an overall
deadline, so a server that hangs costs at most `deadline_s`. Only 127.0.0.1 and localhost
URLs are accepted: load is never sent anywhere else.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

LOOPBACK = {"127.0.0.1", "localhost"}


@dataclass(frozen=True)
class Shot:
    """One request: what came back and how long it took (wall time, send to last byte)."""

    index: int  # position in the bodies sequence
    status: int | None  # HTTP status; None when the request failed or timed out
    body: Any  # parsed JSON (or text when it was not JSON); the error text when it failed
    latency_s: float
    started_s: float  # since the run began

    @property
    def ok(self) -> bool:
        return self.status == 200


def _check_loopback(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in LOOPBACK:
        raise ValueError(f"load is only sent to loopback, not to {host!r}")


async def _post_all(url: str, bodies: Sequence[Any], concurrency: int, timeout_s: float,
                    method: str) -> list[Shot]:
    gate = asyncio.Semaphore(concurrency)
    t0 = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=timeout_s, limits=limits, trust_env=False) as client:
        async def one(i: int, body: Any) -> Shot:
            async with gate:
                start = time.perf_counter()
                try:
                    if method == "GET":
                        r = await client.get(url)
                    else:
                        r = await client.request(method, url, json=body)
                except httpx.HTTPError as exc:
                    return Shot(i, None, f"{type(exc).__name__}: {exc}",
                                time.perf_counter() - start, start - t0)
                end = time.perf_counter()
                try:
                    parsed = r.json()
                except ValueError:
                    parsed = r.text
                return Shot(i, r.status_code, parsed, end - start, start - t0)
        return list(await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies))))


def post_all(url: str, bodies: Sequence[Any], *, concurrency: int = 8, timeout_s: float = 10.0,
             deadline_s: float = 60.0, method: str = "POST") -> list[Shot]:
    """Send every body as JSON to url (at most `concurrency` in flight); one Shot per body.

    Raises TimeoutError when the whole run outlasts deadline_s.
    """
    _check_loopback(url)
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")

    async def bounded() -> list[Shot]:
        return await asyncio.wait_for(_post_all(url, bodies, concurrency, timeout_s, method),
                                      deadline_s)
    return asyncio.run(bounded())


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile by the nearest-rank method (q in (0, 100]): a value that occurred."""
    if not values:
        raise ValueError("no values")
    if not 0 < q <= 100:
        raise ValueError("q must be in (0, 100]")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def throughput(shots: Sequence[Shot]) -> float:
    """Answered requests per second over the run's span (first send to last answer)."""
    done = [s for s in shots if s.ok]
    if not done:
        return 0.0
    span = max(s.started_s + s.latency_s for s in done) - min(s.started_s for s in done)
    return len(done) / span if span > 0 else math.inf

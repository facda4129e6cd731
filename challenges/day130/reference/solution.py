"""Day 130 reference: a stress driver that runs a load plan phase by phase and reports
nearest-rank percentiles and errors, and a stack of two supervised uvicorn workers that
survives losing one of them."""

import asyncio
import contextlib
import math
import os
import signal
import socket
import threading
import time
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
import torch
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field

from graders.data.capstone2 import load_task

WORKERS = 2
MAX_BATCH = 64
Row = Annotated[list[float], Field(min_length=64, max_length=64)]


# ---- the stress driver -------------------------------------------------------------------

def percentile(values, q):
    """Nearest rank: the smallest value with at least q % of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


async def _phase(client, url, phase, bodies):
    gate = asyncio.Semaphore(phase["concurrency"])
    latencies = [None] * phase["requests"]

    async def one(i):
        async with gate:
            start = time.perf_counter()
            try:
                r = await client.post(url, json=bodies[i % len(bodies)])
            except httpx.HTTPError:
                return  # a failed request is an error, never retried
            if r.status_code == 200:
                latencies[i] = (time.perf_counter() - start) * 1000

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(phase["requests"])))
    wall = time.perf_counter() - t0
    ok = [v for v in latencies if v is not None]  # percentiles of the answered requests only
    return {"name": phase["name"], "concurrency": phase["concurrency"],
            "requests": phase["requests"], "ok": len(ok), "errors": phase["requests"] - len(ok),
            "latencies_ms": ok, "p50_ms": percentile(ok, 50), "p95_ms": percentile(ok, 95),
            "p99_ms": percentile(ok, 99), "throughput_rps": len(ok) / wall}


async def _stress(url, plan, bodies, timeout_s):
    reports = []
    for phase in plan:  # one after another: each phase's figures are its own
        limits = httpx.Limits(max_connections=phase["concurrency"])
        async with httpx.AsyncClient(timeout=timeout_s, limits=limits, trust_env=False) as c:
            reports.append(await _phase(c, url, phase, bodies))
    return reports


def stress(url, plan, bodies, timeout_s=5.0):
    return asyncio.run(_stress(url, plan, bodies, timeout_s))


# ---- the stack ---------------------------------------------------------------------------

class PredictRequest(BaseModel):
    inputs: list[Row] = Field(min_length=1, max_length=MAX_BATCH)


state: dict = {}


@asynccontextmanager
async def lifespan(app):
    # in each worker, after the fork: a torch thread pool must not cross a fork
    torch.set_num_threads(1)
    state["model"] = load_task().model.eval()
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/health")
def health():
    return {"status": "ok", "pid": os.getpid()}


@app.post("/predict")
def predict(req: PredictRequest):
    x = torch.tensor(req.inputs, dtype=torch.float32).reshape(-1, 1, 8, 8)
    with torch.inference_mode():
        logits = state["model"](x)
    return {"classes": logits.argmax(1).tolist(), "logits": logits.tolist(), "pid": os.getpid()}


def _worker(sock):
    """A forked worker: one uvicorn server on the shared listening socket."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # uvicorn installs its own
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    server.run(sockets=[sock])
    os._exit(0)


def _spawn(sock):
    pid = os.fork()
    if pid == 0:
        try:
            _worker(sock)
        finally:
            os._exit(1)
    return pid


def run(port):
    """Supervise WORKERS forked workers on one socket; replace any that dies; on SIGTERM stop
    them (in-flight requests finish) and exit 0."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    stopping = threading.Event()
    workers = {_spawn(sock) for _ in range(WORKERS)}
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    while not stopping.is_set():
        for pid in list(workers):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:  # died (killed, crashed): a new worker takes its place
                workers.discard(pid)
                workers.add(_spawn(sock))
        stopping.wait(0.05)
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 4.0
    for pid in workers:
        while not os.waitpid(pid, os.WNOHANG)[0] and time.monotonic() < deadline:
            time.sleep(0.02)
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    sock.close()

"""Day 130: stress-test the full stack — a driver that runs a load plan phase by phase and
reports percentiles and errors, and a two-worker stack that survives losing a worker."""

import asyncio  # noqa: F401
import math  # noqa: F401
import os  # noqa: F401
import time  # noqa: F401

import httpx  # noqa: F401
import torch  # noqa: F401
import uvicorn  # noqa: F401
from fastapi import FastAPI
from pydantic import BaseModel, Field  # noqa: F401

from graders.data.capstone2 import load_task  # noqa: F401  (the demo model: load_task().model)

WORKERS = 2
MAX_BATCH = 64


def stress(url: str, plan: list[dict], bodies: list[dict],
           timeout_s: float = 5.0) -> list[dict]:
    """Run each phase of `plan` ({"name", "concurrency", "requests"}) in order: POST
    bodies[i % len(bodies)] as JSON to url for i in range(requests), `concurrency` in flight.
    One report per phase: name, concurrency, requests, ok, errors, latencies_ms, p50_ms,
    p95_ms, p99_ms, throughput_rps."""
    # TODO: each phase in turn; at most `concurrency` requests in flight, kept that full
    # TODO: each request sent once; a non-200 answer or a failed request is an error (counted,
    #       never raised, never retried)
    # TODO: latencies in milliseconds of the answered (200) requests; nearest-rank percentiles
    raise NotImplementedError("stress")


app = FastAPI()
# TODO: load the model in each worker; GET /health -> {"status": "ok", "pid": ...};
#       POST /predict {"inputs": [[64 numbers], ...]} -> {"classes", "logits", "pid"}


def run(port: int) -> None:
    """Serve app on 127.0.0.1:port from WORKERS worker processes until SIGTERM."""
    # TODO: a supervisor: start the workers on the one port, replace any that dies, and on
    #       SIGTERM stop them all and exit
    raise NotImplementedError("run")

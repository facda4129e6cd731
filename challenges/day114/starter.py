"""Day 114: the demo digits model behind a FastAPI app — a validated JSON contract, a batch
limit, device selection and a graceful shutdown.

The grader serves this file with `python -m uvicorn solution:app --host 127.0.0.1 --port P`.
"""

import asyncio  # noqa: F401  (for the delay: asyncio.sleep)
from contextlib import asynccontextmanager

import torch  # noqa: F401
from fastapi import FastAPI, HTTPException  # noqa: F401
from pydantic import BaseModel, Field  # noqa: F401

from graders.data.capstone2 import load_task  # noqa: F401  (the demo model: load_task().model)

MAX_BATCH = 64  # rows per request; more is 413
MAX_DELAY_MS = 1500
N_FEATURES = 64  # 8x8 pixels, row-major


def pick_device() -> str:
    """'cuda' when torch can use a GPU here, else 'cpu'."""
    # TODO: ask torch whether CUDA is available (call it)
    raise NotImplementedError("pick_device")


# TODO: a pydantic request model: `inputs`, 1 or more rows of exactly 64 numbers each, and
#       `delay_ms`, an integer in 0..1500, default 0 (anything else is a 422 by itself)

state: dict = {}


@asynccontextmanager
async def lifespan(app: FastAPI):
    # TODO: pick the device and load the trained model onto it once, in eval mode
    yield
    # TODO: anything to release at shutdown (it must not wait forever)


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health():
    # TODO: {"status": "ok", "device": "cpu" | "cuda"}
    raise NotImplementedError("GET /health")


@app.post("/predict")
async def predict():
    # TODO: take the request model as the body; more than MAX_BATCH rows is 413
    # TODO: wait delay_ms without blocking the event loop
    # TODO: run the model on the rows reshaped to (n, 1, 8, 8) float32, on the picked device;
    #       answer {"classes": [...], "logits": [[10 floats], ...], "device": ...}
    raise NotImplementedError("POST /predict")

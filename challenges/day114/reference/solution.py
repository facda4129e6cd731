"""Day 114 reference: the demo digits model behind a FastAPI app — a validated JSON contract,
a batch limit, device selection and a clean shutdown."""

import asyncio
from contextlib import asynccontextmanager
from typing import Annotated

import torch
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from graders.data.capstone2 import load_task

MAX_BATCH = 64  # rows per request; more is 413
MAX_DELAY_MS = 1500
N_FEATURES = 64  # 8x8 pixels, row-major
Row = Annotated[list[float], Field(min_length=N_FEATURES, max_length=N_FEATURES)]


def pick_device() -> str:
    """'cuda' when torch can use a GPU here, else 'cpu'."""
    return "cuda" if torch.cuda.is_available() else "cpu"


class PredictRequest(BaseModel):
    # at least one row; the upper limit is checked in the handler, because an oversized
    # batch is a 413, not a malformed request (422)
    inputs: list[Row] = Field(min_length=1)
    delay_ms: int = Field(default=0, ge=0, le=MAX_DELAY_MS)


state: dict = {}


@asynccontextmanager
async def lifespan(app: FastAPI):
    torch.set_num_threads(1)
    device = pick_device()
    model = load_task().model.to(device).eval()
    state.update(model=model, device=device)
    yield
    state.clear()


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health():
    return {"status": "ok", "device": state["device"]}


@app.post("/predict")
async def predict(req: PredictRequest):
    if len(req.inputs) > MAX_BATCH:
        raise HTTPException(413, f"batch of {len(req.inputs)} rows; at most {MAX_BATCH}")
    if req.delay_ms:
        await asyncio.sleep(req.delay_ms / 1000)  # never time.sleep: it would stall the loop
    x = torch.tensor(req.inputs, dtype=torch.float32).reshape(-1, 1, 8, 8)
    with torch.inference_mode():
        logits = state["model"](x.to(state["device"])).float().cpu()
    return {"classes": logits.argmax(1).tolist(), "logits": logits.tolist(),
            "device": state["device"]}

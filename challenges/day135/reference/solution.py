"""Day 135 reference: capstone 3 — the demo model behind one FastAPI app with two backends
(eager torch and onnxruntime, chosen per request), its own benchmark figures, and a
Streamlit page that asks the API:

    uvicorn solution:app --port 8000                                   # the API
    MLTRACK_API_URL=http://127.0.0.1:8000 streamlit run solution.py    # the UI
"""

import io
import math
import os
import time
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import FastAPI
from pydantic import BaseModel, Field, conlist

BACKENDS = ("eager", "onnxruntime")
BENCH_BATCH, BENCH_WARMUP, BENCH_CALLS = 64, 3, 30
URL_VAR = "MLTRACK_API_URL"

Row = conlist(float, min_length=64, max_length=64)


class PredictRequest(BaseModel):
    inputs: list[Row] = Field(min_length=1, max_length=64)
    backend: Literal["eager", "onnxruntime"] = "eager"


def load_backends() -> tuple[dict, object]:
    """{name: fn(float32 (n, 1, 8, 8) numpy array) -> float32 (n, 10) logits}, the bench batch."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import numpy as np
    import onnxruntime as ort
    import torch

    from graders.data.capstone2 import load_task

    torch.set_num_threads(1)
    task = load_task()
    model = task.model.eval()
    buf = io.BytesIO()
    torch.onnx.export(model, (task.x_bench[:1],), buf, input_names=["x"],
                      output_names=["logits"], dynamic_axes={"x": {0: "n"}}, dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(buf.getvalue(), options,
                                   providers=["CPUExecutionProvider"])

    def eager(x):
        with torch.inference_mode():
            return model(torch.from_numpy(x)).numpy()

    def onnx(x):
        return session.run(None, {"x": x})[0]

    return {"eager": eager, "onnxruntime": onnx}, np.ascontiguousarray(
        task.x_bench[:BENCH_BATCH].numpy())


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def benchmark(fn, x) -> dict:
    """Per-call thread CPU time of fn(x), in ms, after a few warm-up calls."""
    for _ in range(BENCH_WARMUP):
        fn(x)
    samples = []
    for _ in range(BENCH_CALLS):
        t0 = time.thread_time()
        fn(x)
        samples.append((time.thread_time() - t0) * 1e3)
    mean = sum(samples) / len(samples)
    return {"p50_ms": nearest_rank(samples, 50), "p99_ms": nearest_rank(samples, 99),
            "mean_ms": mean, "throughput": len(x) * 1e3 / mean, "samples": len(samples)}


def create_app() -> FastAPI:
    state: dict = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state["backends"], x = load_backends()
        state["benchmarks"] = {name: benchmark(fn, x) for name, fn in state["backends"].items()}
        yield

    app = FastAPI(title="Digits demo", lifespan=lifespan)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "backends": list(BACKENDS)}

    @app.post("/predict")
    def predict(req: PredictRequest) -> dict:
        import numpy as np

        x = np.asarray(req.inputs, dtype=np.float32).reshape(-1, 1, 8, 8)
        logits = state["backends"][req.backend](x)
        return {"backend": req.backend, "classes": logits.argmax(1).tolist(),
                "logits": logits.tolist()}

    @app.get("/benchmarks")
    def benchmarks() -> dict:
        return {"batch": BENCH_BATCH, "threads": 1, "backends": state["benchmarks"]}

    return app


app = create_app()


def parse_pixels(text: str) -> list[float]:
    """64 numbers separated by commas, spaces or newlines; ValueError otherwise."""
    values = [float(v) for v in text.replace(",", " ").split()]
    if len(values) != 64:
        raise ValueError(f"expected 64 numbers, got {len(values)}")
    return values


def ui() -> None:
    """The Streamlit page: pixels and a backend in, the API's answer out."""
    import httpx
    import streamlit as st

    url = os.environ.get(URL_VAR, "http://127.0.0.1:8000").rstrip("/")
    st.title("Handwritten digits: one model, several backends")
    text = st.text_area("Pixels: 64 numbers in [0, 1], row-major", key="pixels")
    backend = st.selectbox("Backend", BACKENDS, key="backend")
    if not st.button("Predict", key="predict"):
        return
    try:
        pixels = parse_pixels(text)
    except ValueError as exc:
        st.error(f"Cannot read the pixels: {exc}")
        return
    try:
        r = httpx.post(f"{url}/predict", json={"inputs": [pixels], "backend": backend},
                       timeout=5.0, trust_env=False)
        r.raise_for_status()
        answer = r.json()
    except (httpx.HTTPError, ValueError) as exc:
        st.error(f"The API at {url} did not answer: {exc}")
        return
    st.metric("Predicted class", answer["classes"][0])
    st.metric("Backend", answer["backend"])
    st.bar_chart({"logit": answer["logits"][0]})


if __name__ == "__main__":
    ui()

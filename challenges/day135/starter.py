"""Day 135: capstone 3 — the demo model behind one FastAPI app with two backends (eager
torch and onnxruntime, chosen per request), its own benchmark figures, and a Streamlit page
that asks the API:

    uvicorn solution:app --port 8000                                   # the API
    MLTRACK_API_URL=http://127.0.0.1:8000 streamlit run solution.py    # the UI

Keep the module's top level cheap (the page re-runs this whole file on every interaction):
load the model, export it and time the backends in the app's lifespan, not at import.
"""

import os  # noqa: F401  (the page reads MLTRACK_API_URL)
from contextlib import asynccontextmanager

from fastapi import FastAPI

BACKENDS = ("eager", "onnxruntime")
URL_VAR = "MLTRACK_API_URL"


def create_app() -> FastAPI:
    """The API: GET /health, POST /predict, GET /benchmarks (see the spec)."""
    # TODO: a pydantic request model: `inputs`, 1..64 rows of exactly 64 numbers each, and
    #       `backend`, one of BACKENDS (default "eager"); anything else is a 422 by itself
    state: dict = {}  # noqa: F841  (what the lifespan builds, for the endpoints)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # TODO: torch.set_num_threads(1); capstone 2's model; its ONNX export and an
        #       onnxruntime session (one thread); time both backends once, for /benchmarks
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    def health():
        # TODO: {"status": "ok", "backends": list(BACKENDS)}
        raise NotImplementedError("GET /health")

    @app.post("/predict")
    def predict():
        # TODO: take the request model as the body; run the chosen backend on the rows as
        #       float32 (n, 1, 8, 8); {"backend": ..., "classes": [...], "logits": [...]}
        raise NotImplementedError("POST /predict")

    @app.get("/benchmarks")
    def benchmarks():
        # TODO: {"batch": 64, "threads": 1, "backends": {name: {p50_ms, p99_ms, mean_ms,
        #       throughput, samples}}}, measured at startup
        raise NotImplementedError("GET /benchmarks")

    return app


app = create_app()  # uvicorn serves solution:app


def ui() -> None:
    """The Streamlit page: a text area (key "pixels"), a selectbox (key "backend"), a button
    (key "predict"); on Predict, POST to the API at MLTRACK_API_URL and show its answer."""
    # TODO: import streamlit as st; the widgets; st.metric("Predicted class", ...),
    #       st.metric("Backend", ...); st.error(...) for bad pixels or an API that fails
    raise NotImplementedError("ui")


if __name__ == "__main__":
    ui()

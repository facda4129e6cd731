"""Day 110: a scalable inference service — requests gathered into batches on the fly."""

import asyncio  # noqa: F401  (the Batcher's queue, futures and worker task)
from collections.abc import Callable
from typing import Any

from graders.data.serving import ServedModel  # noqa: F401  (the model behind the service)


class Batcher:
    """Gathers submitted items into batches of at most max_batch, or whatever arrived within
    max_wait_ms of a batch's first item, runs each batch with one run_batch call and hands
    every caller its own answer."""

    def __init__(self, run_batch: Callable[[list], list], max_batch: int = 32,
                 max_wait_ms: float = 5.0):
        # TODO: refuse max_batch < 1 and max_wait_ms < 0 with ValueError
        # TODO: keep the settings; the queue and the worker task can start in the first submit
        raise NotImplementedError("Batcher")

    async def submit(self, item: Any) -> Any:
        """Queue `item`; return run_batch's answer for it once its batch has run."""
        # TODO: queue (item, future); the worker gathers a batch — up to max_batch items, or
        #       until max_wait_ms after the batch's first item — runs run_batch once, and
        #       sets each future's result (or the exception run_batch raised)
        raise NotImplementedError("Batcher.submit")

    async def close(self) -> None:
        """Stop the worker task."""
        raise NotImplementedError("Batcher.close")


def run(port: int, max_batch: int = 32, max_wait_ms: float = 5.0) -> None:
    """Serve the demo model on 127.0.0.1:port until stopped: GET /health, POST /predict."""
    # TODO: a FastAPI app: GET /health -> 200; POST /predict {"pixels": [64 floats]} ->
    #       {"label": int, "logits": [10 floats]}, each request's row going through a Batcher
    #       whose run_batch calls ServedModel() once per batch; 422 for a malformed body
    # TODO: uvicorn.run(app, host="127.0.0.1", port=port)
    raise NotImplementedError("run")

"""Day 110: a scalable inference service — requests gathered into batches on the fly."""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field

from graders.data.serving import ServedModel


class Batcher:
    """Gathers submitted items into batches of at most max_batch, or whatever arrived within
    max_wait_ms of a batch's first item, runs each batch with one run_batch call and hands
    every caller its own answer."""

    def __init__(self, run_batch: Callable[[list], list], max_batch: int = 32,
                 max_wait_ms: float = 5.0):
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be >= 0, got {max_wait_ms}")
        self.run_batch, self.max_batch, self.max_wait_s = run_batch, max_batch, max_wait_ms / 1e3
        self._queue: asyncio.Queue | None = None
        self._worker: asyncio.Task | None = None

    async def submit(self, item: Any) -> Any:
        if self._worker is None:  # started lazily, inside the running event loop
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._serve())
        answer = asyncio.get_running_loop().create_future()
        await self._queue.put((item, answer, time.monotonic()))  # stamped on arrival
        return await answer

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None

    async def _serve(self) -> None:
        while True:
            batch = [await self._queue.get()]
            # counted from the first item's arrival, which may lie in the previous batch's run
            deadline = batch[0][2] + self.max_wait_s
            while len(batch) < self.max_batch:
                left = deadline - time.monotonic()
                try:
                    if left <= 0:  # past the deadline: what is already waiting, no more
                        batch.append(self._queue.get_nowait())
                    else:
                        batch.append(await asyncio.wait_for(self._queue.get(), left))
                except (TimeoutError, asyncio.QueueEmpty):
                    break
            items = [item for item, _, _ in batch]
            try:
                # in a thread: the event loop keeps accepting requests for the next batch
                results = await asyncio.to_thread(self.run_batch, items)
            except Exception as exc:  # every caller of this batch learns of it
                for _, answer, _ in batch:
                    if not answer.done():
                        answer.set_exception(exc)
                continue
            for (_, answer, _), result in zip(batch, results, strict=True):
                if not answer.done():  # a caller that gave up has a cancelled future
                    answer.set_result(result)


class Image(BaseModel):
    pixels: list[float] = Field(min_length=64, max_length=64)


def make_app(max_batch: int = 32, max_wait_ms: float = 5.0) -> FastAPI:
    model = ServedModel()

    def run_batch(rows: list[list[float]]) -> list[list[float]]:
        return model(rows).tolist()

    batcher = Batcher(run_batch, max_batch, max_wait_ms)
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    @app.post("/predict")
    async def predict(image: Image) -> dict:
        logits = await batcher.submit(image.pixels)
        return {"label": max(range(len(logits)), key=logits.__getitem__), "logits": logits}

    return app


def run(port: int, max_batch: int = 32, max_wait_ms: float = 5.0) -> None:
    uvicorn.run(make_app(max_batch, max_wait_ms), host="127.0.0.1", port=port,
                log_level="warning")

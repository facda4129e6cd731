"""Day 68: onnxruntime and LiteRT in one benchmark harness — same inputs, one thread each,
warm-up, repeats, median — and a table of what it measured."""

import os
from collections.abc import Callable

import numpy as np

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported

Runner = Callable[[np.ndarray], np.ndarray]


def onnx_runner(path) -> Runner:
    """x (float32, (b, 1, 8, 8)) -> logits (b, 10) float32 with onnxruntime, one thread."""
    # TODO: one InferenceSession (CPU provider, intra- and inter-op threads pinned to 1),
    #       built here, once; return a function that runs it on x
    raise NotImplementedError("onnx_runner")


def litert_runner(path) -> Runner:
    """x (float32, the file's batch) -> logits float32 with the LiteRT interpreter, one thread."""
    # TODO: one Interpreter(model_path=..., num_threads=1), tensors allocated here, once;
    #       return a function: set_tensor, invoke, get_tensor
    raise NotImplementedError("litert_runner")


def time_call(fn: Runner, x, warmup: int = 10, repeats: int = 50) -> list[float]:
    """`warmup` untimed calls fn(x), then `repeats` calls timed one by one: seconds each."""
    # TODO: time.perf_counter() around each timed call
    raise NotImplementedError("time_call")


def summarize(samples_s: list[float], batch: int) -> dict:
    """median and nearest-rank p90 in milliseconds, images per second at the median."""
    # TODO: {"median_ms": ..., "p90_ms": ..., "images_per_s": ...}
    raise NotImplementedError("summarize")


def compare_backends(onnx_path, tflite_path, x, warmup: int = 10, repeats: int = 50) -> dict:
    """Both backends on the same float32 batch `x`: a summary each and how far apart their
    outputs are."""
    # TODO: {"onnxruntime": summarize(...), "litert": summarize(...), "max_abs_diff": float}
    raise NotImplementedError("compare_backends")

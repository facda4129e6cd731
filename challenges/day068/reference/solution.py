"""Day 68: onnxruntime and LiteRT in one benchmark harness — same inputs, one thread each,
warm-up, repeats, median — and a table of what it measured."""

import math
import os
import time
from collections.abc import Callable

import numpy as np

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported

Runner = Callable[[np.ndarray], np.ndarray]


def onnx_runner(path) -> Runner:
    """x (float32, (b, 1, 8, 8)) -> logits (b, 10) float32 with onnxruntime, one thread."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name

    def run(x: np.ndarray) -> np.ndarray:
        return sess.run(None, {name: x})[0]

    return run


def litert_runner(path) -> Runner:
    """x (float32, the file's batch) -> logits float32 with the LiteRT interpreter, one thread."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]["index"]
    out = interpreter.get_output_details()[0]["index"]

    def run(x: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(inp, x)
        interpreter.invoke()
        return interpreter.get_tensor(out)

    return run


def time_call(fn: Runner, x, warmup: int = 10, repeats: int = 50) -> list[float]:
    """`warmup` untimed calls fn(x), then `repeats` calls timed one by one: seconds each."""
    for _ in range(warmup):
        fn(x)
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(x)
        samples.append(time.perf_counter() - t0)
    return samples


def summarize(samples_s: list[float], batch: int) -> dict:
    """median and nearest-rank p90 in milliseconds, images per second at the median."""
    s = sorted(samples_s)
    n = len(s)
    median = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    p90 = s[math.ceil(0.9 * n) - 1]
    return {"median_ms": median * 1e3, "p90_ms": p90 * 1e3, "images_per_s": batch / median}


def compare_backends(onnx_path, tflite_path, x, warmup: int = 10, repeats: int = 50) -> dict:
    """Both backends on the same float32 batch `x`: a summary each and how far apart their
    outputs are."""
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    runners = {"onnxruntime": onnx_runner(onnx_path), "litert": litert_runner(tflite_path)}
    table = {name: summarize(time_call(run, x, warmup, repeats), len(x))
             for name, run in runners.items()}
    outputs = [run(x) for run in runners.values()]
    table["max_abs_diff"] = float(np.max(np.abs(outputs[0] - outputs[1])))
    return table

"""Day 88 reference: the capstone prototype (dynamic int8) against strong baselines —
torch.compile (inductor) and onnxruntime — measured in one table."""

import copy
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.ao.quantization import quantize_dynamic

from graders.bench import measure

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def _no_grad(module: nn.Module):
    def fn(x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return module(x)

    return fn


def _onnxruntime(model: nn.Module, example: torch.Tensor, path: Path):
    import onnxruntime as ort

    # one self-contained file: torch puts even small weights in model.onnx.data by default
    torch.onnx.export(model, (example,), str(path), dynamo=True, external_data=False,
                      input_names=["input"], output_names=["logits"], verbose=False)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1  # one thread, as torch: thread_time sees only this thread
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def fn(x: torch.Tensor) -> torch.Tensor:
        feed = np.ascontiguousarray(x.numpy(), dtype=np.float32)
        return torch.from_numpy(sess.run(["logits"], {"input": feed})[0])

    return fn


def build_backends(model: nn.Module, calib: torch.Tensor, example: torch.Tensor,
                   workdir) -> dict:
    """The four ways to run `model` on batches shaped like `example`; `model` stays as given."""
    fp32 = copy.deepcopy(model).eval()
    int8 = quantize_dynamic(copy.deepcopy(model).eval(), {nn.Linear}, dtype=torch.qint8)
    # inductor, static shapes: one compile for the benchmark batch, on the first call
    compiled = torch.compile(copy.deepcopy(model).eval(), dynamic=False)
    return {
        "eager": _no_grad(fp32),
        "prototype": _no_grad(int8),
        "compile": _no_grad(compiled),
        "onnxruntime": _onnxruntime(fp32, example, Path(workdir) / "model.onnx"),
    }


def benchmark(fn, inputs: torch.Tensor, name: str = "") -> dict:
    """Day 85's benchmark: one torch thread, thread CPU time, a record in milliseconds."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        m = measure(fn, inputs, name=name or getattr(fn, "__name__", "fn"),
                    timer=time.thread_time, memory=False, max_time_s=1.0)
    finally:
        torch.set_num_threads(threads)
    samples_ms = [s * 1e3 for s in m.samples_s]
    return {"name": m.name, "median_ms": m.median_s * 1e3, "samples_ms": samples_ms,
            "repeats": len(samples_ms), "warmup": m.warmup, "block": m.block,
            "timer": "thread_time", "threads": 1}


def measure_table(backends: dict, inputs: torch.Tensor) -> dict:
    """One benchmark record per backend, keyed and named by the backend's name."""
    return {name: benchmark(fn, inputs, name=name) for name, fn in backends.items()}

"""Day 85 reference: the capstone's baseline (fp32 eager) and a benchmark that records it
through graders.bench."""

import time

import torch
from torch import nn

from graders.bench import measure


def prepare(model: nn.Module, calib: torch.Tensor):
    """The baseline: the model as given, fp32, eager, no autograd. `calib` is unused today;
    day 87's optimisations (int8 quantisation) may need it."""

    def fp32_eager(x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():  # no autograd graph: inference only
            return model(x)

    return fp32_eager


def benchmark(fn, inputs: torch.Tensor, name: str = "") -> dict:
    """Time fn(inputs) on one thread with the CPU time of this thread; a record of the
    schema in the spec."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a single-core figure: steady on a shared machine
    try:
        m = measure(fn, inputs, name=name or getattr(fn, "__name__", "fn"),
                    timer=time.thread_time, memory=False, max_time_s=1.0)
    finally:
        torch.set_num_threads(threads)  # leave the caller's setting as it was
    samples_ms = [s * 1e3 for s in m.samples_s]
    return {"name": m.name, "median_ms": m.median_s * 1e3, "samples_ms": samples_ms,
            "repeats": len(samples_ms), "warmup": m.warmup, "block": m.block,
            "timer": "thread_time", "threads": 1}

"""Day 85: capstone 2 prep — a prototype skeleton: the baseline and a benchmark record."""

import torch
from torch import nn


def prepare(model: nn.Module, calib: torch.Tensor):
    """Return fn(x) -> logits: the baseline, `model` run in float32, eagerly, without autograd.
    `calib` (256 training images) is not needed for the baseline. Do not modify `model`."""
    # TODO: return a function that runs model(x) under torch.inference_mode() (or no_grad)
    raise NotImplementedError("prepare")


def benchmark(fn, inputs: torch.Tensor, name: str = "") -> dict:
    """Time fn(inputs) with graders.bench.measure on one torch thread, with time.thread_time;
    return the record {"name", "median_ms", "samples_ms", "repeats", "warmup", "block",
    "timer", "threads"} described in the spec."""
    # TODO: remember torch.get_num_threads(), set it to 1, measure, restore it (even on error)
    # TODO: graders.bench.measure(fn, inputs, timer=time.thread_time, ...) times per call
    # TODO: build the record from the Measurement: milliseconds per call, its own median
    raise NotImplementedError("benchmark")

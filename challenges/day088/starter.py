"""Day 88: capstone 2 — the prototype against torch.compile and onnxruntime, in one table."""

import torch
from torch import nn


def build_backends(model: nn.Module, calib: torch.Tensor, example: torch.Tensor,
                   workdir) -> dict:
    """Return {"eager", "prototype", "compile", "onnxruntime"} → fn(x) -> float32 logits
    (N, 10), each built from copy.deepcopy(model) (leave `model` as given). `example`: a
    batch shaped like those the backends get; `workdir`: a folder for model.onnx."""
    # TODO: eager: the fp32 model under torch.inference_mode (day 85's baseline)
    # TODO: prototype: your day-87 optimisation (`calib` if it calibrates)
    # TODO: compile: torch.compile(copy, dynamic=False) with inductor (compiles on first call)
    # TODO: onnxruntime: torch.onnx.export(..., external_data=False) to workdir/"model.onnx",
    #       an InferenceSession on one intra-op thread, numpy in, torch tensor out
    raise NotImplementedError("build_backends")


def benchmark(fn, inputs: torch.Tensor, name: str = "") -> dict:
    """Day 85's benchmark record (graders.bench.measure, one torch thread, thread_time, ms)."""
    # TODO: copy your day-85 benchmark here
    raise NotImplementedError("benchmark")


def measure_table(backends: dict, inputs: torch.Tensor) -> dict:
    """{backend name: benchmark(fn, inputs, name=backend name)} for every backend."""
    # TODO: one record per backend, each measuring that backend's own function
    raise NotImplementedError("measure_table")

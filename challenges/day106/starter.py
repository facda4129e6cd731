"""Day 106: one inference interface, three backends — eager torch, onnxruntime and a
TVM-compiled module (torch.export -> Relax -> tvm.compile) — each a function numpy -> numpy."""

import os
from collections.abc import Callable

import numpy as np

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported

Runner = Callable[[np.ndarray], np.ndarray]


def _as_input(x) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32))


def torch_runner(model) -> Runner:
    """Eager torch: x (b, 1, 8, 8) any float dtype -> logits (b, 10) float32 numpy."""
    # TODO: a copy of the model in eval mode; run: float32 input, no_grad, numpy out
    raise NotImplementedError("torch_runner")


def onnx_runner(path) -> Runner:
    """onnxruntime on the .onnx file, CPU provider, one thread; same interface."""
    # TODO: one InferenceSession (CPU provider, intra- and inter-op threads 1), built here
    raise NotImplementedError("onnx_runner")


def tvm_runner(model, example) -> Runner:
    """The model exported with a dynamic batch axis, imported into Relax, compiled for llvm
    once; run(x) feeds the Relax VM and returns numpy."""
    # TODO: torch.export.export with a dynamic batch Dim -> from_exported_program ->
    #       tvm.compile(mod, target="llvm") -> relax.VirtualMachine, all here, once
    raise NotImplementedError("tvm_runner")

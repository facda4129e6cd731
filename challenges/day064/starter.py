"""Day 64: PyTorch → ONNX with a dynamic batch axis, checked with onnxruntime (→ TensorRT)."""

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported


def export_onnx(model: nn.Module, example: torch.Tensor, path) -> Path:
    """Export `model` in eval mode to one self-contained ONNX file at `path` (dynamo
    exporter, input "input", output "logits", the batch axis dynamic); returns the path."""
    # TODO: eval mode first (dropout off, BatchNorm on its running statistics)
    # TODO: torch.onnx.export(..., dynamo=True) with a dynamic axis 0, the tensor names of the
    #       spec, and the weights inside the file (no separate .onnx.data)
    raise NotImplementedError("export_onnx")


def run_onnx(path, x) -> np.ndarray:
    """The model at `path` on `x` with onnxruntime's CPU provider: float32 (N, 10)."""
    # TODO: an onnxruntime.InferenceSession on the CPU provider; feed `x` (a torch tensor or
    #       a numpy array of any float dtype) as a contiguous float32 array
    raise NotImplementedError("run_onnx")


def max_abs_diff(model: nn.Module, path, x) -> float:
    """max |torch(x) − onnxruntime(x)| over every logit, the model in eval mode."""
    # TODO: torch's logits (eval mode, no grad) against run_onnx's; the largest absolute gap
    raise NotImplementedError("max_abs_diff")


def build_trt_engine(onnx_path, max_batch: int = 64, fp16: bool = False) -> bytes:
    """A serialized TensorRT engine for the ONNX file, with an optimisation profile for
    batches 1..max_batch (opt 32 or max_batch if smaller); FP16 kernels allowed when fp16."""
    # TODO (graded only with tensorrt and an NVIDIA GPU): parse the ONNX file, add an
    #       optimisation profile for the dynamic batch axis, build and serialize the engine
    raise NotImplementedError("build_trt_engine")

"""Day 74: a custom op end to end — a torch.library custom op, exported as an ONNX node of a
custom domain, run by onnxruntime with a Python kernel (→ a TensorRT plugin on a GPU)."""

import os
from pathlib import Path

import numpy as np  # noqa: F401  (the kernel computes with numpy)
import onnx  # noqa: F401
import torch
from torch import nn

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported

DOMAIN, OP_TYPE = "ai.onnx.contrib", "SoftThreshold"


# TODO: make this a custom op named "mltrack::soft_threshold" (torch.library.custom_op, no
#       mutated arguments) and give it a fake implementation for torch.export
def soft_threshold(x: torch.Tensor, lam: float) -> torch.Tensor:
    """sign(x) · max(|x| − lam, 0), elementwise; a new tensor of x's shape and dtype."""
    raise NotImplementedError("soft_threshold")


def register_onnx_schema() -> None:
    """Declare ai.onnx.contrib::SoftThreshold (X float → Y float, attribute lam) to onnx,
    once per process: the exporter and the checker look it up."""
    # TODO: an onnx.defs.OpSchema; register it unless onnx.defs.has(...) says it is there
    raise NotImplementedError("register_onnx_schema")


def export_onnx(model: nn.Module, example: torch.Tensor, path) -> Path:
    """Export `model` (which calls torch.ops.mltrack.soft_threshold) with the dynamo exporter:
    each call becomes one ai.onnx.contrib::SoftThreshold node with a float attribute lam;
    input "input" with a dynamic batch axis, output "output", one self-contained file."""
    # TODO: register the schema; a translation function emitting the custom-domain node;
    #       torch.onnx.export(..., dynamo=True, custom_translation_table=..., ...)
    raise NotImplementedError("export_onnx")


def ort_session(path):
    """An onnxruntime CPU session for a model with SoftThreshold nodes: the Python kernel
    registered and onnxruntime-extensions' custom-op library loaded."""
    # TODO: an @onnx_op kernel (onnxruntime_extensions) that reads the attribute lam; a
    #       session whose options load onnxruntime_extensions.get_library_path()
    raise NotImplementedError("ort_session")


def build_trt_engine(onnx_path) -> bytes:
    """A serialized TensorRT engine for the ONNX file, with SoftThreshold as a TensorRT plugin
    (tensorrt.plugin, TensorRT ≥ 10.6), batches 1..64."""
    # TODO (graded only with tensorrt and an NVIDIA GPU): register the plugin for
    #       "ai.onnx.contrib::SoftThreshold", parse the ONNX file, one optimisation profile
    #       (1 / 32 / 64), build and serialize the engine
    raise NotImplementedError("build_trt_engine")

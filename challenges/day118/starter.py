"""Day 118: a new op for an inference engine — SwiGLU as numpy math, an ONNX node of a custom
domain run by onnxruntime with a Python kernel, and a TensorRT-plugin-shaped class (shape and
type inference, formats, serialization, enqueue) graded on the CPU (→ a real plugin on a GPU)."""

from __future__ import annotations

import os
import struct  # noqa: F401  (the plugin's bytes)

import numpy as np
import onnx  # noqa: F401

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported

DOMAIN, OP_TYPE = "ai.onnx.contrib", "SwiGLU"
DTYPES = ("float32", "float16")  # what the op (and the plugin) computes in
MAGIC, VERSION = b"SWGL", 1


def swiglu(x: np.ndarray, beta: float = 1.0) -> np.ndarray:
    """a · b · sigmoid(beta · b) with a, b the two halves of x's last axis; float32 or float16
    in, the same dtype out, computed in float32 and rounded once."""
    # TODO: ValueError for an odd last axis; split into halves; compute in float32
    raise NotImplementedError("swiglu")


def register_onnx_schema() -> None:
    """Declare ai.onnx.contrib::SwiGLU (X → Y, T float or float16, FLOAT attribute beta) to onnx,
    once per process."""
    # TODO: an onnx.defs.OpSchema; register it unless onnx.defs.has(...) says it is there
    raise NotImplementedError("register_onnx_schema")


def swiglu_model(weight: np.ndarray, bias: np.ndarray, beta: float) -> onnx.ModelProto:
    """input (batch, k) → Gemm with weight (2d, k) and bias (2d,) → SwiGLU(beta) → output
    (batch, d); batch is symbolic."""
    # TODO: onnx.helper: a Gemm node, a SwiGLU node in DOMAIN, the weights as initializers
    raise NotImplementedError("swiglu_model")


def ort_session(path):
    """An onnxruntime CPU session for a model with SwiGLU nodes: the Python kernel registered
    and onnxruntime-extensions' custom-op library loaded."""
    # TODO: an @onnx_op kernel reading the attribute beta, registered once per process; a
    #       session whose options load onnxruntime_extensions.get_library_path()
    raise NotImplementedError("ort_session")


class SwiGLUPlugin:
    """The op as TensorRT sees a plugin (IPluginV3's core, build and runtime parts), in Python:
    what TensorRT asks at build time, the bytes it stores in the engine, the run itself."""

    plugin_name, plugin_version, plugin_namespace = OP_TYPE, "1", DOMAIN

    def __init__(self, beta: float = 1.0):
        # TODO: ValueError unless beta is finite and > 0
        raise NotImplementedError("SwiGLUPlugin")

    def clone(self) -> SwiGLUPlugin:
        raise NotImplementedError("clone")

    def get_num_outputs(self) -> int:
        raise NotImplementedError("get_num_outputs")

    def get_output_data_types(self, input_types: list[str]) -> list[str]:
        raise NotImplementedError("get_output_data_types")

    def get_output_shapes(self, input_shapes: list[tuple]) -> list[tuple]:
        raise NotImplementedError("get_output_shapes")

    def supports_format_combination(self, pos: int, in_out: list[tuple[str, str]],
                                    num_inputs: int) -> bool:
        raise NotImplementedError("supports_format_combination")

    def serialize(self) -> bytes:
        raise NotImplementedError("serialize")

    @classmethod
    def deserialize(cls, data: bytes) -> SwiGLUPlugin:
        raise NotImplementedError("deserialize")

    def enqueue(self, inputs: list[np.ndarray], outputs: list[np.ndarray]) -> None:
        raise NotImplementedError("enqueue")


def build_trt_engine(onnx_path) -> bytes:
    """A serialized TensorRT engine for the ONNX file, SwiGLU as a TensorRT plugin
    (tensorrt.plugin, TensorRT >= 10.6), batches 1 / 32 / 64."""
    # TODO (graded only with tensorrt and an NVIDIA GPU): register the plugin for
    #       "ai.onnx.contrib::SwiGLU", parse the file, one optimisation profile, build, serialize
    raise NotImplementedError("build_trt_engine")

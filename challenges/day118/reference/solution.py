"""Day 118: a new op for an inference engine — SwiGLU as numpy math, an ONNX node of a custom
domain run by onnxruntime with a Python kernel, and a TensorRT-plugin-shaped class (shape and
type inference, formats, serialization, enqueue) graded on the CPU (→ a real plugin on a GPU)."""

from __future__ import annotations

import math
import os
import struct
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported

DOMAIN, OP_TYPE = "ai.onnx.contrib", "SwiGLU"
DTYPES = ("float32", "float16")  # what the op (and the plugin) computes in
MAGIC, VERSION = b"SWGL", 1
_LAYOUT = struct.Struct("<4sId")  # magic, format version, beta: 16 bytes


def swiglu(x: np.ndarray, beta: float = 1.0) -> np.ndarray:
    """a · b · sigmoid(beta · b) with a, b the two halves of x's last axis; float32 or float16
    in, the same dtype out, computed in float32 and rounded once."""
    x = np.asarray(x)
    if x.ndim == 0 or x.shape[-1] % 2:
        raise ValueError(f"SwiGLU needs an even last axis, got shape {x.shape}")
    d = x.shape[-1] // 2
    a, b = x[..., :d].astype(np.float32), x[..., d:].astype(np.float32)
    # sigmoid(z) = exp(-log(1 + exp(-z))): no overflow warning for large |z|
    gate = b * np.exp(-np.logaddexp(np.float32(0), -np.float32(beta) * b))
    return (a * gate).astype(x.dtype)


def register_onnx_schema() -> None:
    """Declare ai.onnx.contrib::SwiGLU (X → Y, T float or float16, FLOAT attribute beta) to onnx,
    once per process."""
    if onnx.defs.has(OP_TYPE, DOMAIN):
        return
    schema = onnx.defs.OpSchema(
        OP_TYPE, DOMAIN, 1,
        inputs=[onnx.defs.OpSchema.FormalParameter("X", "T")],
        outputs=[onnx.defs.OpSchema.FormalParameter("Y", "T")],
        type_constraints=[("T", ["tensor(float)", "tensor(float16)"], "float tensors")],
        attributes=[onnx.defs.OpSchema.Attribute("beta", onnx.defs.OpSchema.AttrType.FLOAT,
                                                 "the slope of the sigmoid gate")])
    onnx.defs.register_schema(schema)


def swiglu_model(weight: np.ndarray, bias: np.ndarray, beta: float) -> onnx.ModelProto:
    """input (batch, k) → Gemm with weight (2d, k) and bias (2d,) → SwiGLU(beta) → output
    (batch, d); batch is symbolic."""
    register_onnx_schema()
    weight, bias = np.asarray(weight, np.float32), np.asarray(bias, np.float32)
    two_d, k = weight.shape
    nodes = [helper.make_node("Gemm", ["input", "W", "B"], ["hidden"], transB=1),
             helper.make_node(OP_TYPE, ["hidden"], ["output"], domain=DOMAIN,
                              beta=float(beta))]
    graph = helper.make_graph(
        nodes, "swiglu_mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", k])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", two_d // 2])],
        initializer=[numpy_helper.from_array(weight, "W"), numpy_helper.from_array(bias, "B")])
    return helper.make_model(graph, ir_version=10, opset_imports=[
        helper.make_opsetid("", 18), helper.make_opsetid(DOMAIN, 1)])


_kernel_registered = []


def _register_kernel() -> None:
    """Register the Python kernel once per process: a second @onnx_op for the same op type
    makes every later session fail."""
    if _kernel_registered:
        return
    from onnxruntime_extensions import PyCustomOpDef, onnx_op

    @onnx_op(op_type=OP_TYPE, domain=DOMAIN, inputs=[PyCustomOpDef.dt_float],
             outputs=[PyCustomOpDef.dt_float], attrs={"beta": PyCustomOpDef.dt_float})
    def swiglu_kernel(x, **attrs):
        return swiglu(np.asarray(x, np.float32), attrs["beta"])

    _kernel_registered.append(swiglu_kernel)


def ort_session(path):
    """An onnxruntime CPU session for a model with SwiGLU nodes: the Python kernel registered
    and onnxruntime-extensions' custom-op library loaded."""
    import onnxruntime as ort
    from onnxruntime_extensions import get_library_path

    _register_kernel()
    opts = ort.SessionOptions()
    opts.register_custom_ops_library(get_library_path())
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


class SwiGLUPlugin:
    """The op as TensorRT sees a plugin (IPluginV3's core, build and runtime parts), in Python:
    what TensorRT asks at build time, the bytes it stores in the engine, the run itself."""

    plugin_name, plugin_version, plugin_namespace = OP_TYPE, "1", DOMAIN

    def __init__(self, beta: float = 1.0):
        beta = float(beta)
        if not (math.isfinite(beta) and beta > 0):
            raise ValueError(f"beta must be a finite number > 0, got {beta}")
        self.beta = beta

    def clone(self) -> SwiGLUPlugin:
        return SwiGLUPlugin(self.beta)

    def get_num_outputs(self) -> int:
        return 1

    def get_output_data_types(self, input_types: list[str]) -> list[str]:
        if len(input_types) != 1 or input_types[0] not in DTYPES:
            raise TypeError(f"SwiGLU takes one float32 or float16 input, got {input_types}")
        return [input_types[0]]

    def get_output_shapes(self, input_shapes: list[tuple]) -> list[tuple]:
        if len(input_shapes) != 1 or len(input_shapes[0]) == 0:
            raise ValueError(f"SwiGLU takes one input of rank >= 1, got {input_shapes}")
        *lead, last = input_shapes[0]
        if not isinstance(last, int) or last < 2 or last % 2:
            raise ValueError(f"the last axis must be a known even size >= 2, got {last!r}")
        return [(*lead, last // 2)]

    def supports_format_combination(self, pos: int, in_out: list[tuple[str, str]],
                                    num_inputs: int) -> bool:
        dtype, fmt = in_out[pos]
        if fmt != "LINEAR" or dtype not in DTYPES:
            return False
        return pos < num_inputs or dtype == in_out[0][0]  # the output: the input's dtype

    def serialize(self) -> bytes:
        return _LAYOUT.pack(MAGIC, VERSION, self.beta)

    @classmethod
    def deserialize(cls, data: bytes) -> SwiGLUPlugin:
        if len(data) != _LAYOUT.size:
            raise ValueError(f"expected {_LAYOUT.size} bytes, got {len(data)}")
        magic, version, beta = _LAYOUT.unpack(data)
        if magic != MAGIC or version != VERSION:
            raise ValueError(f"not a SwiGLU plugin of version {VERSION}: {magic!r} {version}")
        return cls(beta)

    def enqueue(self, inputs: list[np.ndarray], outputs: list[np.ndarray]) -> None:
        outputs[0][...] = swiglu(inputs[0], self.beta)  # into TensorRT's buffer, in place


_plugin_registered = []


def build_trt_engine(onnx_path) -> bytes:
    """A serialized TensorRT engine for the ONNX file, SwiGLU as a TensorRT plugin
    (tensorrt.plugin, TensorRT >= 10.6), batches 1 / 32 / 64."""
    import tensorrt as trt
    import tensorrt.plugin as trtp
    import torch
    import torch.nn.functional as F

    if not _plugin_registered:  # once per process, like the onnxruntime kernel
        @trtp.register(f"{DOMAIN}::{OP_TYPE}")
        def _desc(x: trtp.TensorDesc, beta: float) -> trtp.TensorDesc:
            *lead, last = x.shape_expr  # symbolic dims: the last one halves
            return trtp.from_shape_expr(trtp.ShapeExprs.from_tuple((*lead, last // 2)),
                                        dtype=x.dtype)

        @trtp.impl(f"{DOMAIN}::{OP_TYPE}")
        def _impl(x: trtp.Tensor, beta: float, outputs, stream: int) -> None:
            xt, yt = torch.as_tensor(x, device="cuda"), torch.as_tensor(outputs[0], device="cuda")
            a, b = xt.float().chunk(2, dim=-1)
            with torch.cuda.stream(torch.cuda.ExternalStream(stream)):
                yt.copy_((a * b * F.sigmoid(beta * b)).to(yt.dtype))

        _plugin_registered.append(_impl)
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(Path(onnx_path).read_bytes()):
        raise RuntimeError("; ".join(str(parser.get_error(i)) for i in range(parser.num_errors)))
    config = builder.create_builder_config()
    profile = builder.create_optimization_profile()
    inp = network.get_input(0)
    rest = tuple(inp.shape)[1:]
    profile.set_shape(inp.name, (1, *rest), (32, *rest), (64, *rest))
    config.add_optimization_profile(profile)
    engine = builder.build_serialized_network(network, config)
    if engine is None:
        raise RuntimeError("TensorRT could not build the engine")
    return bytes(engine)

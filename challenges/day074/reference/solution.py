"""Day 74: a custom op end to end — a torch.library custom op, exported as an ONNX node of a
custom domain, run by onnxruntime with a Python kernel (→ a TensorRT plugin on a GPU)."""

import os
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

DOMAIN, OP_TYPE = "ai.onnx.contrib", "SoftThreshold"


@torch.library.custom_op("mltrack::soft_threshold", mutates_args=())
def soft_threshold(x: torch.Tensor, lam: float) -> torch.Tensor:
    """sign(x) · max(|x| − lam, 0), elementwise; a new tensor of x's shape and dtype."""
    return torch.sign(x) * torch.clamp(x.abs() - lam, min=0)


@soft_threshold.register_fake
def _(x, lam):  # shapes and dtypes only: what torch.export traces with
    return torch.empty_like(x)


def register_onnx_schema() -> None:
    """Declare ai.onnx.contrib::SoftThreshold (X float → Y float, attribute lam) to onnx,
    once per process: the exporter and the checker look it up."""
    if onnx.defs.has(OP_TYPE, DOMAIN):
        return
    schema = onnx.defs.OpSchema(
        OP_TYPE, DOMAIN, 1,
        inputs=[onnx.defs.OpSchema.FormalParameter("X", "T")],
        outputs=[onnx.defs.OpSchema.FormalParameter("Y", "T")],
        type_constraints=[("T", ["tensor(float)"], "float32 tensors")],
        attributes=[onnx.defs.OpSchema.Attribute("lam", onnx.defs.OpSchema.AttrType.FLOAT,
                                                 "the threshold")])
    onnx.defs.register_schema(schema)


def export_onnx(model: nn.Module, example: torch.Tensor, path) -> Path:
    """Export `model` (which calls torch.ops.mltrack.soft_threshold) with the dynamo exporter:
    each call becomes one ai.onnx.contrib::SoftThreshold node with a float attribute lam;
    input "input" with a dynamic batch axis, output "output", one self-contained file."""
    import onnxscript

    register_onnx_schema()
    contrib = onnxscript.values.Opset(DOMAIN, 1)

    def translate(x, lam: float):
        return contrib.SoftThreshold(x, lam=lam)

    model.eval()
    torch.onnx.export(model, (example,), str(path), dynamo=True, external_data=False,
                      custom_translation_table={torch.ops.mltrack.soft_threshold.default:
                                                translate},
                      input_names=["input"], output_names=["output"],
                      dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=1024)},),
                      verbose=False)
    return Path(path)


_kernel_registered = []


def _register_kernel() -> None:
    """Register the Python kernel with onnxruntime-extensions, once per process: a second
    registration of the same op type makes every later session fail."""
    if _kernel_registered:
        return
    from onnxruntime_extensions import PyCustomOpDef, onnx_op

    @onnx_op(op_type=OP_TYPE, domain=DOMAIN, inputs=[PyCustomOpDef.dt_float],
             outputs=[PyCustomOpDef.dt_float], attrs={"lam": PyCustomOpDef.dt_float})
    def soft_threshold_kernel(x, **attrs):
        lam = np.float32(attrs["lam"])
        return (np.sign(x) * np.maximum(np.abs(x) - lam, 0)).astype(np.float32)

    _kernel_registered.append(soft_threshold_kernel)


def ort_session(path):
    """An onnxruntime CPU session for a model with SoftThreshold nodes: the Python kernel
    registered and onnxruntime-extensions' custom-op library loaded."""
    import onnxruntime as ort
    from onnxruntime_extensions import get_library_path

    _register_kernel()
    opts = ort.SessionOptions()
    opts.register_custom_ops_library(get_library_path())
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


_plugin_registered = []


def build_trt_engine(onnx_path) -> bytes:
    """A serialized TensorRT engine for the ONNX file, with SoftThreshold as a TensorRT plugin
    (tensorrt.plugin, TensorRT ≥ 10.6), batches 1..64."""
    import tensorrt as trt
    import tensorrt.plugin as trtp

    if not _plugin_registered:  # once per process, like the onnxruntime kernel
        @trtp.register(f"{DOMAIN}::{OP_TYPE}")
        def _desc(x: trtp.TensorDesc, lam: float) -> trtp.TensorDesc:
            return x.like()

        @trtp.impl(f"{DOMAIN}::{OP_TYPE}")
        def _impl(x: trtp.Tensor, lam: float, outputs, stream: int) -> None:
            xt, yt = torch.as_tensor(x, device="cuda"), torch.as_tensor(outputs[0], device="cuda")
            with torch.cuda.stream(torch.cuda.ExternalStream(stream)):
                yt.copy_(torch.sign(xt) * torch.clamp(xt.abs() - lam, min=0))

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

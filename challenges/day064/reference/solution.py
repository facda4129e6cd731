"""Day 64: PyTorch → ONNX with a dynamic batch axis, checked with onnxruntime (→ TensorRT)."""

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def export_onnx(model: nn.Module, example: torch.Tensor, path) -> Path:
    """Export `model` in eval mode to one self-contained ONNX file at `path` (dynamo
    exporter, input "input", output "logits", the batch axis dynamic); returns the path."""
    path = Path(path)
    model.eval()  # dropout off, BatchNorm on its running statistics
    batch = torch.export.Dim("batch", min=1, max=1024)
    torch.onnx.export(model, (example,), str(path), dynamo=True, external_data=False,
                      input_names=["input"], output_names=["logits"],
                      dynamic_shapes=({0: batch},), verbose=False)
    return path


def run_onnx(path, x) -> np.ndarray:
    """The model at `path` on `x` with onnxruntime's CPU provider: float32 (N, 10)."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    return sess.run(["logits"], {"input": feed})[0]


def max_abs_diff(model: nn.Module, path, x) -> float:
    """max |torch(x) − onnxruntime(x)| over every logit, the model in eval mode."""
    x = torch.as_tensor(np.asarray(x, dtype=np.float32))
    model.eval()
    with torch.no_grad():
        want = model(x).numpy()
    return float(np.max(np.abs(run_onnx(path, x.numpy()) - want)))


def build_trt_engine(onnx_path, max_batch: int = 64, fp16: bool = False) -> bytes:
    """A serialized TensorRT engine for the ONNX file, with an optimisation profile for
    batches 1..max_batch (opt 32 or max_batch if smaller); FP16 kernels allowed when fp16."""
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # TensorRT 10: explicit batch is the only mode
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(Path(onnx_path).read_bytes()):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        raise RuntimeError("TensorRT could not parse the ONNX file: " + "; ".join(errors))
    config = builder.create_builder_config()
    if fp16:
        config.set_flag(trt.BuilderFlag.FP16)
    profile = builder.create_optimization_profile()
    name = network.get_input(0).name
    shape = tuple(network.get_input(0).shape)[1:]
    profile.set_shape(name, (1, *shape), (min(32, max_batch), *shape), (max_batch, *shape))
    config.add_optimization_profile(profile)
    engine = builder.build_serialized_network(network, config)
    if engine is None:
        raise RuntimeError("TensorRT could not build the engine")
    return bytes(engine)

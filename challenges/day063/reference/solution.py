"""Day 63: the TensorRT demo — an FP16 ONNX model checked in onnxruntime, a GPU speed-up with
FP16 and CUDA graphs, and a TensorRT engine where TensorRT is installed."""

import os
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def to_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` computing in float16: every float32 initializer becomes float16, a
    Cast to float16 follows each float32 graph input and a Cast to float32 precedes each
    float32 graph output, so the model still takes and returns float32 under the same names."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    for t in graph.initializer:
        if t.data_type == TensorProto.FLOAT:
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16),
                                               t.name))
    del graph.value_info[:]  # float32 annotations of intermediates would now be wrong
    renamed = {}
    for vi in graph.input:
        if vi.type.tensor_type.elem_type == TensorProto.FLOAT:
            renamed[vi.name] = vi.name + "_fp16"
    outputs = {vi.name: vi.name + "_fp16" for vi in graph.output
               if vi.type.tensor_type.elem_type == TensorProto.FLOAT}
    for node in graph.node:
        node.input[:] = [renamed.get(i, outputs.get(i, i)) for i in node.input]
        node.output[:] = [outputs.get(o, o) for o in node.output]
    casts_in = [helper.make_node("Cast", [name], [new], to=TensorProto.FLOAT16,
                                 name=f"cast_{name}_to_fp16") for name, new in renamed.items()]
    casts_out = [helper.make_node("Cast", [new], [name], to=TensorProto.FLOAT,
                                  name=f"cast_{name}_to_fp32") for name, new in outputs.items()]
    nodes = casts_in + list(graph.node) + casts_out
    del graph.node[:]
    graph.node.extend(nodes)
    return model


def make_fast(model: nn.Module, example: torch.Tensor):
    """A callable f(x) → logits for CUDA float32 inputs of example's shape that runs `model`
    in float16 replayed from a CUDA graph; returns a new float32 tensor per call."""
    fast = _half_copy(model).cuda()
    static_in = example.detach().to("cuda", torch.float16).clone()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side), torch.no_grad():
        for _ in range(3):  # warm up (cuDNN picks its kernels) outside the capture
            fast(static_in)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph), torch.no_grad():
        static_out = fast(static_in)

    def run(x: torch.Tensor) -> torch.Tensor:
        static_in.copy_(x)  # new data into the captured input buffer
        graph.replay()
        return static_out.float()  # a new tensor: the next replay overwrites static_out

    return run


def _half_copy(model: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(model).eval().half()


def build_trt_engine(onnx_path, max_batch: int = 256, fp16: bool = True) -> bytes:
    """A serialized TensorRT engine for the (float32) ONNX file, FP16 kernels allowed when
    fp16, one optimisation profile for batches 1..max_batch."""
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(Path(onnx_path).read_bytes()):
        raise RuntimeError("; ".join(str(parser.get_error(i)) for i in range(parser.num_errors)))
    config = builder.create_builder_config()
    if fp16:
        config.set_flag(trt.BuilderFlag.FP16)
    profile = builder.create_optimization_profile()
    inp = network.get_input(0)
    rest = tuple(inp.shape)[1:]
    profile.set_shape(inp.name, (1, *rest), (max_batch, *rest), (max_batch, *rest))
    config.add_optimization_profile(profile)
    engine = builder.build_serialized_network(network, config)
    if engine is None:
        raise RuntimeError("TensorRT could not build the engine")
    return bytes(engine)

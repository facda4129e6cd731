"""Day 73: an ONNX graph pass of your own — Conv+BatchNormalization folding and
MatMul+Add → Gemm — checked against onnxruntime's graph optimiser."""

import os
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def _consumers(graph) -> dict[str, list]:
    uses: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            uses.setdefault(name, []).append(node)
    for out in graph.output:  # a graph output counts as a use
        uses.setdefault(out.name, []).append(None)
    return uses


def _replace_nodes(graph, new_nodes) -> None:
    del graph.node[:]
    graph.node.extend(new_nodes)


def fold_conv_bn(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` where every Conv whose only consumer is a BatchNormalization (with
    constant parameters) is replaced by one Conv with the BatchNorm folded into its weights."""
    model = onnx.ModelProto.FromString(model.SerializeToString())  # never touch the caller's
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    uses = _consumers(graph)
    producer = {out: node for node in graph.node for out in node.output}
    dropped, new_nodes = set(), []
    for node in graph.node:
        if node.op_type != "BatchNormalization" or len(node.output) != 1:
            continue
        conv = producer.get(node.input[0])
        if (conv is None or conv.op_type != "Conv" or len(uses[conv.output[0]]) != 1
                or not all(name in inits for name in node.input[1:5])
                or conv.input[1] not in inits):
            continue
        eps = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5)
        scale, beta, mean, var = (numpy_helper.to_array(inits[n]).astype(np.float64)
                                  for n in node.input[1:5])
        w = numpy_helper.to_array(inits[conv.input[1]]).astype(np.float64)
        b = (numpy_helper.to_array(inits[conv.input[2]]).astype(np.float64)
             if len(conv.input) > 2 and conv.input[2] else np.zeros(w.shape[0]))
        k = scale / np.sqrt(var + eps)
        w_name, b_name = f"{conv.name or conv.output[0]}_folded.w", \
            f"{conv.name or conv.output[0]}_folded.b"
        graph.initializer.extend([
            numpy_helper.from_array((w * k.reshape(-1, *[1] * (w.ndim - 1))).astype(np.float32),
                                    w_name),
            numpy_helper.from_array(((b - mean) * k + beta).astype(np.float32), b_name)])
        folded = helper.make_node("Conv", [conv.input[0], w_name, b_name], [node.output[0]],
                                  name=conv.name)
        folded.attribute.extend(conv.attribute)
        dropped.update({id(conv), id(node)})
        new_nodes.append((conv, folded))
    replacement = {id(conv): folded for conv, folded in new_nodes}
    _replace_nodes(graph, [replacement.get(id(n), n) for n in graph.node
                           if id(n) not in dropped or id(n) in replacement])
    return model


def _rank(model: onnx.ModelProto) -> dict[str, int]:
    inferred = onnx.shape_inference.infer_shapes(model)
    ranks = {}
    for vi in (*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output):
        if vi.type.tensor_type.HasField("shape"):
            ranks[vi.name] = len(vi.type.tensor_type.shape.dim)
    return ranks


def fuse_matmul_add(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` where every MatMul of a rank-2 input by a constant 2-D matrix whose
    only consumer is an Add of a constant bias of shape (N,) is replaced by one Gemm."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    uses = _consumers(graph)
    ranks = _rank(model)
    replacement, dropped = {}, set()
    for mm in graph.node:
        if mm.op_type != "MatMul" or ranks.get(mm.input[0]) != 2 or mm.input[1] not in inits:
            continue
        consumers = uses.get(mm.output[0], [])
        if len(consumers) != 1 or consumers[0] is None or consumers[0].op_type != "Add":
            continue
        add = consumers[0]
        bias = next((name for name in add.input if name != mm.output[0]), None)
        n = numpy_helper.to_array(inits[mm.input[1]]).shape[1]
        if bias not in inits or numpy_helper.to_array(inits[bias]).size != n:
            continue
        replacement[id(mm)] = helper.make_node("Gemm", [mm.input[0], mm.input[1], bias],
                                               [add.output[0]], name=mm.name or add.name)
        dropped.add(id(add))
    _replace_nodes(graph, [replacement.get(id(n), n) for n in graph.node
                           if id(n) not in dropped])
    return model


def _drop_unused_initializers(model: onnx.ModelProto) -> onnx.ModelProto:
    used = {name for node in model.graph.node for name in node.input}
    used |= {o.name for o in model.graph.output}
    keep = [t for t in model.graph.initializer if t.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)
    return model


def optimize(model: onnx.ModelProto) -> onnx.ModelProto:
    """fold_conv_bn, then fuse_matmul_add; no initializer left that no node uses."""
    return _drop_unused_initializers(fuse_matmul_add(fold_conv_bn(model)))  # dead weights go


def ort_optimized(model: onnx.ModelProto, level: str, path) -> onnx.ModelProto:
    """The graph onnxruntime's own optimiser makes of `model` at level "basic" or
    "extended", written to `path` (SessionOptions.optimized_model_filepath) and loaded."""
    import onnxruntime as ort

    levels = {"basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
              "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED}
    if level not in levels:
        raise ValueError(f"level must be 'basic' or 'extended', not {level!r}")
    opts = ort.SessionOptions()
    opts.graph_optimization_level = levels[level]
    opts.optimized_model_filepath = str(Path(path))
    ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return onnx.load(str(path))

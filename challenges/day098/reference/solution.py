"""Day 98 reference: a constant-folding pass and a dead-node elimination pass over ONNX
graphs, and the two chained."""

import onnx
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator


def _copy(model):
    return onnx.ModelProto.FromString(model.SerializeToString())


def _constants(graph):
    """Initializers that are not graph inputs: an initializer that is also an input is only a
    default the caller may override, so it is not a constant."""
    inputs = {i.name for i in graph.input}
    return {t.name: numpy_helper.to_array(t) for t in graph.initializer if t.name not in inputs}


def _evaluate(node, values, opset):
    """The node's outputs on constant inputs, by onnx's own reference implementation."""
    feeds = {name: values[name] for name in node.input if name}
    model = _one_node_model(node, feeds, opset)
    return ReferenceEvaluator(model).run(None, feeds)


def _one_node_model(node, feeds, opset):
    graph = helper.make_graph(
        [node], "one_node",
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
         for n, v in feeds.items()],
        [helper.make_empty_tensor_value_info(o) for o in node.output if o])
    return helper.make_model(graph, opset_imports=opset)


def fold_constants(model):
    """Every node whose inputs are all constants becomes initializers named as its outputs."""
    out = _copy(model)
    graph = out.graph
    values = _constants(graph)
    kept, new = [], []
    for node in graph.node:  # topological order: a node's constant inputs are known by now
        if all(name in values for name in node.input if name):
            results = _evaluate(node, values, out.opset_import)
            for name, value in zip(node.output, results, strict=False):
                if name:
                    values[name] = value
                    new.append(numpy_helper.from_array(value, name))  # keeps the dtype
        else:
            kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    graph.initializer.extend(new)
    return out


def eliminate_dead_nodes(model):
    """Drop the nodes no graph output depends on, then the initializers no node reads
    (those that are also graph inputs stay: they belong to the graph's interface)."""
    out = _copy(model)
    graph = out.graph
    needed = {o.name for o in graph.output}
    live = []
    for node in reversed(graph.node):  # walk back from the outputs
        if any(name in needed for name in node.output):
            live.append(node)
            needed.update(name for name in node.input if name)
    live.reverse()
    del graph.node[:]
    graph.node.extend(live)
    inputs = {i.name for i in graph.input}
    read = {name for node in live for name in node.input} | {o.name for o in graph.output}
    keep = [t for t in graph.initializer if t.name in read or t.name in inputs]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    return out


def optimize(model):
    return eliminate_dead_nodes(fold_constants(model))

"""Day 98 grader: the learner's constant-folding and dead-node-elimination passes on an ONNX
graph built for them (foldable chains with Constant nodes of three attribute kinds, an int64
shape, a two-output Split, a graph input with a default initializer, dead chains, an unused
initializer and an unused graph input), on a 4-node graph of edge cases (an omitted optional
input, an unread graph input with a default, a constant graph output), and on the day-73 CNN,
where nothing may change.
Every result: exact node and initializer sets from the graph's own construction, the graph's
interface kept, onnx.checker, onnxruntime parity with the original, the caller's model
untouched; eliminate_dead_nodes against onnxoptimizer's eliminate_deadend."""

import os

import numpy as np
import pytest

from graders.data.onnx_nets import (
    DEAD_NODES,
    FOLDABLE_NODES,
    LIVE_NODES,
    digits_batch,
    folding_edge_graph,
    folding_graph,
    unfused_graph,
)

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
import onnx  # noqa: E402  (after the environment is set)
import onnxruntime as ort  # noqa: E402
from onnx import numpy_helper  # noqa: E402

ATOL, RTOL = 1e-5, 1e-5  # |optimised − original| <= ATOL + RTOL·|original|, float32
BATCHES = (1, 5)
DEAD_INITIALIZERS = ("junk_bias", "unused_w")  # read by dead nodes only, or by none
FOLDED_DEAD = ("c_junk", "add_junk")  # constant AND dead: folded by fold_constants
OPTIMIZED_INITIALIZERS = {"scale", "two", "shift", "Wt", "inv_std", "new_shape", "half_a"}


def _feeds(model, batch):
    names = [i.name for i in model.graph.input]
    if "mask" in names:  # the folding graph; "scale" fed with a value unlike its default
        rng = np.random.default_rng(batch)
        return {"input": rng.uniform(-1, 1, (batch, 8)).astype(np.float32),
                "scale": rng.uniform(-2, 2, 8).astype(np.float32),
                "mask": np.zeros((batch, 3), np.float32)}
    if "gain" in names:  # the edge graph; "gain" (read by no node) fed all the same
        rng = np.random.default_rng(batch)
        return {"input": rng.uniform(-1, 1, (batch, 4)).astype(np.float32),
                "gain": rng.uniform(-2, 2, 4).astype(np.float32)}
    return {"input": digits_batch(batch, offset=batch).numpy()}


def _run(model, feeds):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3  # the default-initializer warning is the point of the graph
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def _call(fn, model, what):
    before = model.SerializeToString()
    result = fn(model)
    if model.SerializeToString() != before:  # not `assert`: pytest would diff the bytes
        pytest.fail(f"{what} modified the model it was given: work on a copy "
                    "(onnx.ModelProto.FromString(model.SerializeToString()))", pytrace=False)
    if not isinstance(result, onnx.ModelProto):
        pytest.fail(f"{what} must return an onnx.ModelProto, got {type(result).__name__}",
                    pytrace=False)
    if result is model:
        pytest.fail(f"{what} returned the model it was given: return a new ModelProto (a "
                    "copy), even when there is nothing to change — the caller may edit the "
                    "result", pytrace=False)
    return result


def _names(model):
    return [n.name for n in model.graph.node]


def _kept_nodes_unchanged(original, got, what):
    before = {n.name: n.SerializeToString() for n in original.graph.node}
    changed = [n.name for n in got.graph.node
               if n.name in before and n.SerializeToString() != before[n.name]]
    if changed:
        pytest.fail(f"{what} changed the node(s) {changed} it kept (inputs, outputs or "
                    "attributes): a node that stays must stay exactly as it was", pytrace=False)


def _inits(model):
    return {t.name: t for t in model.graph.initializer}


def _interface_kept(original, got, what):
    for part in ("input", "output"):
        want = [v.SerializeToString() for v in getattr(original.graph, part)]
        have = [v.SerializeToString() for v in getattr(got.graph, part)]
        if want != have:
            was = [v.name for v in getattr(original.graph, part)]
            pytest.fail(
                f"{what} changed the graph {part}s: {was} became "
                f"{[v.name for v in getattr(got.graph, part)]} (or their types): graph "
                f"inputs and outputs are the model's interface — keep every one, even an "
                "input no node reads", pytrace=False)


def _check(model, what):
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as exc:  # ValidationError or a shape-inference error
        pytest.fail(f"onnx.checker rejects the graph {what} returns: {str(exc)[:400]}",
                    pytrace=False)


def _same_outputs(original, got, what):
    for batch in BATCHES:
        feeds = _feeds(original, batch)
        wants = _run(original, feeds)
        try:
            haves = _run(got, feeds)
        except Exception as exc:  # onnxruntime's own exception types
            pytest.fail(f"onnxruntime cannot run the graph {what} returns (batch {batch}): "
                        f"{str(exc)[:300]}", pytrace=False)
        for i, (have, want) in enumerate(zip(haves, wants, strict=True)):
            err = np.abs(have - want) if have.shape == want.shape else None
            if err is None or np.any(err > ATOL + RTOL * np.abs(want)):
                worst = float(err.max()) if err is not None else float("nan")
                pytest.fail(
                    f"{what} changes output {original.graph.output[i].name!r} at batch {batch}"
                    f" (with `scale` fed a value other than its default): max |error| "
                    f"{worst:.3g}, shapes {have.shape} vs {want.shape} (tolerance {ATOL:g} + "
                    f"{RTOL:g}·|y|)", pytrace=False)


def _expected_folds(model):
    """The value of every tensor a folding pass makes, by numpy from the initializers."""
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    const = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in model.graph.node
             if n.op_type == "Constant" and n.attribute[0].name == "value"}
    std = np.sqrt(init["var"])
    eps = np.float32(1e-3)
    return {
        "shift": const["shift"], "Wt": init["W"].T, "std": std, "eps": np.array(eps),
        "std_eps": std + eps, "inv_std": np.float32(1) / (std + eps),
        "neg1": np.int64([-1]), "two_two": np.int64([2, 2]), "new_shape": np.int64([-1, 2, 2]),
        "half_a": init["pair"][:4], "half_b": init["pair"][4:],
        "junk": const["junk"], "junk2": const["junk"] + init["junk_bias"],
    }


@pytest.fixture(scope="module")
def graph():
    return folding_graph()


# ---- dead-node elimination ----

def test_eliminate_dead_nodes(solution, graph):
    got = _call(solution.eliminate_dead_nodes, graph, "eliminate_dead_nodes")
    names = _names(got)
    want = [n for n in _names(graph) if n not in DEAD_NODES]
    if "split_pair" not in names:
        pytest.fail("eliminate_dead_nodes removed split_pair: one of its two outputs (half_a) "
                    "is read by a live node — a node is live when ANY of its outputs is needed",
                    pytrace=False)
    left = [n for n in DEAD_NODES if n in names]
    if left:
        pytest.fail(f"eliminate_dead_nodes kept the dead node(s) {left}: no graph output depends"
                    " on them. Dead is transitive — exp feeds only the dead neg, c_junk only the "
                    "dead add_junk: walk back from the graph outputs and keep what they need",
                    pytrace=False)
    assert names == want, (
        f"eliminate_dead_nodes keeps {names}; expected {want} (every live node, in the original "
        "order)")
    inits, before = _inits(got), _inits(graph)
    kept = [n for n in DEAD_INITIALIZERS if n in inits]
    assert not kept, (
        f"eliminate_dead_nodes leaves the initializer(s) {kept}, which no remaining node reads "
        "(junk_bias fed only the dead add_junk; unused_w fed nothing): remove them")
    want_inits = [n for n in before if n not in DEAD_INITIALIZERS]
    assert sorted(inits) == sorted(want_inits), (
        f"eliminate_dead_nodes leaves the initializers {sorted(inits)}; expected "
        f"{sorted(want_inits)}")
    changed = [n for n in inits if inits[n].SerializeToString() != before[n].SerializeToString()]
    assert not changed, f"eliminate_dead_nodes changed the initializer(s) {changed}"
    _kept_nodes_unchanged(graph, got, "eliminate_dead_nodes")
    _interface_kept(graph, got, "eliminate_dead_nodes")
    _check(got, "eliminate_dead_nodes")
    _same_outputs(graph, got, "eliminate_dead_nodes")


def test_eliminate_dead_nodes_agrees_with_onnxoptimizer(solution, graph, record_metric):
    import onnxoptimizer

    theirs = onnxoptimizer.optimize(graph, ["eliminate_deadend"])
    mine = _call(solution.eliminate_dead_nodes, graph, "eliminate_dead_nodes")
    record_metric("nodes after onnxoptimizer eliminate_deadend", len(theirs.graph.node))
    assert _names(mine) == _names(theirs), (
        f"eliminate_dead_nodes keeps {_names(mine)}; onnxoptimizer's eliminate_deadend keeps "
        f"{_names(theirs)}")


# ---- constant folding ----

def test_fold_constants(solution, graph):
    got = _call(solution.fold_constants, graph, "fold_constants")
    names = _names(got)
    if "scale_twice" not in names:
        pytest.fail("fold_constants folded scale_twice = Mul(scale, two): `scale` is a graph "
                    "input with a default initializer — the caller may feed another value, so "
                    "it is not a constant (only initializers that are not graph inputs are)",
                    pytrace=False)
    unfolded = [n for n in (*FOLDABLE_NODES, *FOLDED_DEAD) if n in names]
    assert not unfolded, (
        f"fold_constants left {unfolded}: every input of each is a constant (an initializer "
        "that is not a graph input, or the output of a folded node — Constant nodes included)")
    want = [n for n in _names(graph) if n not in FOLDABLE_NODES and n not in FOLDED_DEAD]
    assert names == want, (
        f"fold_constants keeps {names}; expected {want} (the nodes with a non-constant input, "
        "in the original order)")
    inits = _inits(got)
    lost = [n for n in _inits(graph) if n not in inits]
    assert not lost, (f"fold_constants removed the initializer(s) {lost}: folding only adds "
                      "(removing is eliminate_dead_nodes' job)")
    for name, value in _expected_folds(graph).items():
        assert name in inits, (
            f"no initializer named {name!r} after fold_constants: every output of a folded "
            "node becomes an initializer of the same name")
        have = numpy_helper.to_array(inits[name])
        assert have.dtype == value.dtype, (
            f"the folded {name!r} is {have.dtype}, the node computes {value.dtype}: keep each "
            "output's dtype (Reshape's shape must stay int64)")
        assert have.shape == value.shape and np.allclose(have, value, rtol=1e-6, atol=1e-7), (
            f"the folded {name!r} is {have.tolist()} {have.shape}; the node computes "
            f"{value.tolist()} {value.shape}")
    _kept_nodes_unchanged(graph, got, "fold_constants")
    _interface_kept(graph, got, "fold_constants")
    _check(got, "fold_constants")
    _same_outputs(graph, got, "fold_constants")


# ---- both ----

def test_optimize(solution, graph, record_metric):
    got = _call(solution.optimize, graph, "optimize")
    names = _names(got)
    assert names == list(LIVE_NODES), (
        f"optimize keeps {names}; expected {list(LIVE_NODES)}: fold the constant subgraphs, "
        "then remove the dead nodes")
    inits = _inits(got)
    unused = sorted(set(inits) - {i for n in got.graph.node for i in n.input}
                    - {i.name for i in got.graph.input})
    assert not unused, f"optimize leaves initializers no node reads: {unused}"
    assert set(inits) == OPTIMIZED_INITIALIZERS, (
        f"optimize leaves the initializers {sorted(inits)}; expected "
        f"{sorted(OPTIMIZED_INITIALIZERS)}")
    _kept_nodes_unchanged(graph, got, "optimize")
    _interface_kept(graph, got, "optimize")
    _check(got, "optimize")
    _same_outputs(graph, got, "optimize")

    import onnxoptimizer

    theirs = onnxoptimizer.optimize(graph, ["extract_constant_to_initializer",
                                            "eliminate_deadend", "eliminate_unused_initializer"])
    record_metric("nodes before", len(graph.graph.node))
    record_metric("nodes after optimize", len(names))
    record_metric("nodes after onnxoptimizer (no folding)", len(theirs.graph.node))
    extra = [n for n in names if n not in _names(theirs)]
    assert not extra, f"optimize keeps {extra}, which onnxoptimizer proves dead"


@pytest.mark.parametrize("what", ["fold_constants", "eliminate_dead_nodes", "optimize"])
def test_a_graph_with_nothing_to_do_is_unchanged(solution, what):
    model = unfused_graph()  # day 73's CNN: no constant subgraph, nothing dead
    got = _call(getattr(solution, what), model, what)
    assert _names(got) == _names(model), (
        f"{what} changes the node list of a graph with nothing to fold and nothing dead: "
        f"{_names(model)} became {_names(got)}")
    assert sorted(_inits(got)) == sorted(_inits(model)), (
        f"{what} changes the initializers of a graph where every one is read")
    _kept_nodes_unchanged(model, got, what)
    _interface_kept(model, got, what)
    _check(got, what)
    _same_outputs(model, got, what)


# ---- edge cases: an omitted optional input, an unread input default, a constant output ----

EDGE_RESULT = {  # (node names, initializer names) each function must leave
    "fold_constants": (["add_clipped"], {"raw", "hi", "gain", "clipped", "k", "k_sq"}),
    "eliminate_dead_nodes": (["clip_max", "add_clipped", "c_k", "square_k"], {"raw", "hi", "gain"}),
    "optimize": (["add_clipped"], {"gain", "clipped", "k_sq"}),
}


@pytest.mark.parametrize("what", list(EDGE_RESULT))
def test_edge_cases(solution, what):
    model = folding_edge_graph()
    got = _call(getattr(solution, what), model, what)
    names, inits = _names(got), _inits(got)
    want_nodes, want_inits = EDGE_RESULT[what]
    if what != "eliminate_dead_nodes" and "clip_max" in names:
        pytest.fail(f"{what} did not fold clip_max = Clip(raw, '', hi): its min input is "
                    "omitted (an empty name, not a tensor), and its non-empty inputs are all "
                    "constants", pytrace=False)
    if what != "fold_constants" and "gain" not in inits:
        pytest.fail(f"{what} removed the initializer 'gain': no node reads it, but it is also "
                    "a graph input — the default of an input belongs to the interface",
                    pytrace=False)
    if what == "optimize" and "k_sq" not in inits:
        pytest.fail("optimize lost 'k_sq': folded, the graph output k_sq is an initializer, "
                    "and an initializer that is a graph output must stay", pytrace=False)
    assert names == want_nodes and set(inits) == want_inits, (
        f"{what} on folding_edge_graph() leaves the nodes {names} and the initializers "
        f"{sorted(inits)}; expected {want_nodes} and {sorted(want_inits)}")
    if what == "fold_constants":
        raw = numpy_helper.to_array(model.graph.initializer[0])
        have = numpy_helper.to_array(inits["clipped"])
        want = np.minimum(raw, np.float32(0.25))
        assert have.dtype == want.dtype and have.shape == want.shape and np.allclose(
            have, want, rtol=1e-6, atol=1e-7), (
            f"the folded 'clipped' is {have.tolist()}; Clip(raw, max=0.25) gives {want.tolist()}")
    _kept_nodes_unchanged(model, got, what)
    _interface_kept(model, got, what)
    _check(got, what)
    _same_outputs(model, got, what)

"""Day 73 grader: the learner's Conv+BatchNormalization folding and MatMul+Add → Gemm fusion on
two ONNX graphs (a small CNN and a graph of cases that must not be fused), each result checked
by onnx.checker and run by onnxruntime against the unoptimised graph, and compared with what
onnxruntime's own graph optimiser makes of the same graphs; a third graph holds pairs that look
fusable but are not (a graph output, a computed second Add input, a one-element bias)."""

import collections
import os

import numpy as np
import pytest

from graders.data.onnx_nets import consumer_graph, digits_batch, tricky_graph, unfused_graph

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
import onnx  # noqa: E402  (after the environment is set)
import onnxruntime as ort  # noqa: E402

ATOL, RTOL = 1e-5, 1e-5  # |optimised − original| <= ATOL + RTOL·|original|, float32
BATCHES = (1, 37)


def _inputs(name: str, batch: int) -> np.ndarray:
    if name == "cnn":
        return digits_batch(batch, offset=batch).numpy()
    shape = (batch, 2, 6, 6) if name == "traps" else (batch, 3, 4, 4)
    return np.random.default_rng(batch).uniform(0, 1, shape).astype(np.float32)


GRAPHS = {"cnn": unfused_graph, "traps": tricky_graph, "edges": consumer_graph}


def _run(model: onnx.ModelProto, x: np.ndarray, level=None) -> list[np.ndarray]:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.graph_optimization_level = level or ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})  # every graph output


def _ops(model: onnx.ModelProto) -> collections.Counter:
    return collections.Counter(n.op_type for n in model.graph.node)


def _check(model, what: str) -> None:
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as exc:  # ValidationError or a shape-inference error
        pytest.fail(f"onnx.checker rejects the graph {what} returns: {str(exc)[:400]}",
                    pytrace=False)


def _same_outputs(original, optimised, graph: str, what: str) -> None:
    for batch in BATCHES:
        x = _inputs(graph, batch)
        wants = _run(original, x)
        try:
            gots = _run(optimised, x)
        except Exception as exc:  # onnxruntime's own exception types
            pytest.fail(f"onnxruntime cannot run the graph {what} returns ({graph}, batch "
                        f"{batch}): {str(exc)[:300]}", pytrace=False)
        assert len(gots) == len(wants), (
            f"the graph {what} returns has {len(gots)} outputs, the original {len(wants)}")
        for got, want in zip(gots, wants, strict=True):
            _close(got, want, graph, batch, what)


def _close(got, want, graph: str, batch: int, what: str) -> None:
    err = np.abs(got - want) if got.shape == want.shape else None
    if err is None or np.any(err > ATOL + RTOL * np.abs(want)):
        worst = float(err.max()) if err is not None else float("nan")
        hint = (" — check the folding formula: W·γ/√(var+ε) per output channel, "
                "b' = (b − mean)·γ/√(var+ε) + β, with the BatchNorm's own epsilon and "
                "b = 0 for a Conv without bias" if what != "fuse_matmul_add" else
                " — a Gemm(A, B, bias) computes A·B + bias")
        pytest.fail(f"{what} changes the outputs of the {graph} graph at batch {batch}: "
                    f"max |error| {worst:.3g} (tolerance {ATOL:g} + {RTOL:g}·|y|; shapes "
                    f"{got.shape} vs {want.shape}){hint}", pytrace=False)


@pytest.fixture(params=sorted(GRAPHS))
def graph(request):
    return request.param, GRAPHS[request.param]()


def _call(fn, model, what):
    before = model.SerializeToString()
    result = fn(model)
    if model.SerializeToString() != before:  # not `assert`: pytest would diff the bytes for minutes
        pytest.fail(f"{what} modified the model it was given: work on a copy (onnx.ModelProto() "
                    "+ CopyFrom, or FromString(model.SerializeToString()))", pytrace=False)
    if not isinstance(result, onnx.ModelProto):
        pytest.fail(f"{what} must return an onnx.ModelProto, got {type(result).__name__}",
                    pytrace=False)
    return result  # the checker runs after the structural checks, which say more


def test_fold_conv_bn(solution, graph):
    name, model = graph
    folded = _call(solution.fold_conv_bn, model, "fold_conv_bn")
    ops, before = _ops(folded), _ops(model)
    producers = {out: n for n in folded.graph.node for out in n.output}
    consumers = collections.defaultdict(list)
    for n in folded.graph.node:
        for i in n.input:
            consumers[i].append(n.op_type)
    if name == "cnn":
        assert ops["BatchNormalization"] == 0, (
            f"{ops['BatchNormalization']} BatchNormalization nodes left in the CNN: both follow "
            "a Conv that feeds nothing else and must be folded into it")
    elif name == "edges":
        assert ops["BatchNormalization"] == 1, (
            "bnC was folded although convC's output `c_conv` is also a graph output: a graph "
            "output counts as a consumer, so that Conv has two and must stay")
    else:
        assert "BatchNormalization" not in consumers.get("a_conv", []) and (
            producers.get("a_bn") is None or producers["a_bn"].op_type == "Conv"), (
            "bnA (after a Conv without a bias, epsilon 1e-3) was not folded: a Conv without "
            "a bias folds too — its bias is 0 before folding")
        assert consumers.get("b_conv", []).count("BatchNormalization") == 1, (
            "bnB was folded although convB's output also feeds the residual Add: folding would "
            "change what the Add sees — fold only a Conv whose output has no other consumer")
    assert ops["Conv"] == before["Conv"], (
        f"{before['Conv']} Conv nodes before folding, {ops['Conv']} after: folding replaces "
        "each Conv+BatchNormalization pair by one Conv")
    assert len(folded.graph.node) == len(model.graph.node) - (
        before["BatchNormalization"] - ops["BatchNormalization"]), (
        "folding must remove exactly one node (the BatchNormalization) per folded pair")
    _check(folded, "fold_conv_bn")
    _same_outputs(model, folded, name, "fold_conv_bn")


def test_fuse_matmul_add(solution, graph):
    name, model = graph
    fused = _call(solution.fuse_matmul_add, model, "fuse_matmul_add")
    ops = _ops(fused)
    producers = {out: n.op_type for n in fused.graph.node for out in n.output}
    if name == "cnn":
        assert ops["Gemm"] == 2 and ops["MatMul"] == 0 and ops["Add"] == 0, (
            f"the CNN after fuse_matmul_add has {dict(ops)}: both MatMul+Add pairs (fc1, fc2) "
            "must become one Gemm each")
    elif name == "edges":
        fused_away = sorted(n.name for n in model.graph.node if n.op_type == "MatMul"
                            and producers.get(n.output[0]) != "MatMul")
        assert ops["Gemm"] == 0, (
            f"fuse_matmul_add made {ops['Gemm']} Gemm in the edges graph (MatMuls {fused_away} "
            "gone): none may fuse — mmP/mmQ meet in an Add whose other input is computed, not "
            "an initializer; addS's bias has one element, not N = 5; mmR's output is also a "
            "graph output (a second consumer)")
    else:
        assert producers.get("y1") == "Gemm", (
            "add1 = Add(bias, MatMul) was not fused into a Gemm: the bias may be the Add's "
            "first input")
        assert producers.get("m2") == "MatMul", (
            "mm2 was fused although its output also feeds a Relu: a MatMul whose output has "
            "another consumer must stay")
        assert producers.get("m3") == "MatMul", (
            "mm3 multiplies a rank-3 tensor (batch, 2, 4): Gemm is defined for 2-D inputs "
            "only — check the input's rank (onnx.shape_inference.infer_shapes)")
        assert ops["Gemm"] == 1, f"expected exactly one Gemm in the traps graph, got {dict(ops)}"
    assert len(fused.graph.node) == len(model.graph.node) - ops["Gemm"], (
        "fusing must remove exactly one node per MatMul+Add pair")
    _check(fused, "fuse_matmul_add")
    _same_outputs(model, fused, name, "fuse_matmul_add")


def test_optimize_matches_onnxruntime_basic(solution, graph, tmp_path, record_metric):
    name, model = graph
    mine = _call(solution.optimize, model, "optimize")
    if name == "edges":  # onnxruntime also fuses a one-element bias; the spec's pass does not
        assert _ops(mine) == _ops(model), (
            f"optimize changes the op counts of the edges graph "
            f"({dict(sorted(_ops(model).items()))} → {dict(sorted(_ops(mine).items()))}): "
            "nothing in it may be folded or fused")
        _check(mine, "optimize")
        _same_outputs(model, mine, name, "optimize")
        return
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    opts.optimized_model_filepath = str(tmp_path / "ort_basic.onnx")
    ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    theirs = onnx.load(str(tmp_path / "ort_basic.onnx"))
    record_metric(f"{name}: nodes before", len(model.graph.node))
    record_metric(f"{name}: nodes after optimize", len(mine.graph.node))
    record_metric(f"{name}: nodes after onnxruntime basic", len(theirs.graph.node))
    assert _ops(mine) == _ops(theirs), (
        f"optimize leaves {dict(sorted(_ops(mine).items()))} in the {name} graph; onnxruntime's "
        f"basic optimiser leaves {dict(sorted(_ops(theirs).items()))}: the same fusions, "
        "no more and no fewer, should give the same op counts")
    used = {i for n in mine.graph.node for i in n.input}
    unused = [t.name for t in mine.graph.initializer if t.name not in used]
    assert not unused, (
        f"optimize leaves initializers no node uses (e.g. {unused[:4]}): drop the "
        "BatchNorm parameters and the replaced weights")
    _check(mine, "optimize")
    _same_outputs(model, mine, name, "optimize")
    x = _inputs(name, 37)
    err = float(np.max(np.abs(_run(mine, x)[0] - _run(theirs, x)[0])))
    record_metric(f"{name}: max |optimize − onnxruntime basic|", err)


@pytest.mark.parametrize("level,fused_op", [("basic", "Gemm"), ("extended", "FusedConv")])
def test_ort_optimized_reads_onnxruntimes_own_pass(solution, tmp_path, level, fused_op):
    model = unfused_graph()
    path = tmp_path / f"{level}.onnx"
    got = solution.ort_optimized(model, level, path if level == "basic" else str(path))
    assert isinstance(got, onnx.ModelProto), (
        f"ort_optimized must return an onnx.ModelProto, got {type(got).__name__}")
    assert path.is_file(), f"ort_optimized({level!r}) wrote no file at the given path"
    want_level = {"basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
                  "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED}[level]
    opts = ort.SessionOptions()
    opts.graph_optimization_level = want_level
    opts.optimized_model_filepath = str(tmp_path / "grader.onnx")
    ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    want = onnx.load(str(tmp_path / "grader.onnx"))
    assert _ops(got) == _ops(want), (
        f"ort_optimized(level={level!r}) gives {dict(sorted(_ops(got).items()))}, onnxruntime "
        f"at ORT_ENABLE_{level.upper()} gives {dict(sorted(_ops(want).items()))}")
    assert _ops(got)[fused_op] > 0, f"no {fused_op} node at level {level!r}"


@pytest.mark.parametrize("level", ["all", "BASIC", ""])
def test_ort_optimized_rejects_other_levels(solution, tmp_path, level):
    from graders import expect

    expect.raises(ValueError, solution.ort_optimized, unfused_graph(), level,
                  tmp_path / "x.onnx", what="ort_optimized", why=f"level={level!r}")

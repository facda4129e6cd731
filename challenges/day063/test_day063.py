"""Day 63 grader: the learner's float16 conversion of two ONNX graphs, checked by onnx.checker
and run by onnxruntime against the float32 graphs (the FP16 error bound); on a CUDA GPU the
learner's FP16 + CUDA-graph callable against float32 eager torch (outputs and a measured
speed-up); a TensorRT engine only where tensorrt and an NVIDIA GPU are both present."""

import os
import time

import numpy as np
import pytest
import torch

from graders import expect
from graders.data.onnx_nets import digits_batch, make_net, tricky_graph, unfused_graph
from graders.requires import hardware, package
from hardware.detect import available

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
torch.set_num_threads(1)
import onnx  # noqa: E402  (after the environment is set)
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto  # noqa: E402

FP16_REL = 5e-3  # |fp16 − fp32| <= FP16_REL·(1 + |y|), per output
SIZE_RATIO_MAX = 0.55  # serialized fp16 cnn / fp32 cnn
GPU_BATCH = 256
GPU_TOL = 1e-2  # |fast − eager fp32| <= GPU_TOL·(1 + |y|)


def _cnn_with_shapes() -> onnx.ModelProto:
    """`cnn` with float32 value_info for every intermediate, as an exporter writes it: a
    conversion that keeps these annotations leaves float16 tensors declared float32."""
    return onnx.shape_inference.infer_shapes(unfused_graph())


GRAPHS = {"cnn": unfused_graph, "traps": tricky_graph, "cnn+shapes": _cnn_with_shapes}


def _inputs(name: str, batch: int) -> np.ndarray:
    if name.startswith("cnn"):
        return digits_batch(batch, offset=batch).numpy()
    return np.random.default_rng(batch).uniform(0, 1, (batch, 2, 6, 6)).astype(np.float32)


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": x})[0]


@pytest.fixture(params=sorted(GRAPHS))
def converted(request, solution):
    name = request.param
    model = GRAPHS[name]()
    before = model.SerializeToString()
    half = solution.to_fp16(model)
    if model.SerializeToString() != before:  # not `assert`: pytest would diff the bytes for minutes
        pytest.fail("to_fp16 modified the model it was given: convert a copy", pytrace=False)
    if not isinstance(half, onnx.ModelProto):
        pytest.fail(f"to_fp16 must return an onnx.ModelProto, got {type(half).__name__}",
                    pytrace=False)
    return name, model, half


def test_weights_are_float16_and_the_interface_float32(converted):
    name, model, half = converted
    kinds = {t.name: t.data_type for t in model.graph.initializer}
    for t in half.graph.initializer:
        was = kinds.get(t.name)
        if was == TensorProto.FLOAT:
            assert t.data_type == TensorProto.FLOAT16, (
                f"initializer {t.name!r} is still {TensorProto.DataType.Name(t.data_type)}: "
                "every float32 initializer becomes float16")
        elif was is not None:
            assert t.data_type == was, (
                f"initializer {t.name!r} was {TensorProto.DataType.Name(was)} and is now "
                f"{TensorProto.DataType.Name(t.data_type)}: only float32 tensors change "
                "(a Reshape's shape stays int64)")
    leftover = [t.name for t in half.graph.initializer if t.data_type == TensorProto.FLOAT]
    assert not leftover, f"float32 initializers left: {leftover[:4]}"
    stale = [v.name for v in half.graph.value_info
             if v.type.tensor_type.elem_type == TensorProto.FLOAT]
    assert not stale, (
        f"value_info still declares {stale[:4]} float32 although they are float16 now: clear "
        "graph.value_info (its annotations are stale)")
    for want, got, kind in ((model.graph.input, half.graph.input, "input"),
                            (model.graph.output, half.graph.output, "output")):
        assert [v.name for v in got] == [v.name for v in want], (
            f"the graph's {kind} names changed: {[v.name for v in got]} (expected "
            f"{[v.name for v in want]})")
        types = [TensorProto.DataType.Name(v.type.tensor_type.elem_type) for v in got]
        assert types == ["FLOAT"], (
            f"the graph's {kind} is {types}: it must stay float32 — Cast to float16 after "
            "the input and back to float32 before the output")
    try:
        onnx.checker.check_model(half, full_check=True)
    except Exception as exc:  # ValidationError or a shape-inference error
        pytest.fail(f"onnx.checker rejects the float16 graph: {str(exc)[:400]}", pytrace=False)


def test_fp16_outputs_within_the_bound(converted, record_metric):
    name, model, half = converted
    worst = 0.0
    for batch in (1, 37):
        x = _inputs(name, batch)
        want = _run(model, x)
        try:
            got = _run(half, x)
        except Exception as exc:  # onnxruntime's own exception types
            pytest.fail(f"onnxruntime cannot run the float16 {name} graph at batch {batch}: "
                        f"{str(exc)[:300]}", pytrace=False)
        assert got.dtype == np.float32 and got.shape == want.shape, (
            f"the float16 graph returns {got.dtype} {got.shape}, expected float32 {want.shape}")
        err = np.abs(got - want)
        ratio = float(np.max(err / (1 + np.abs(want))))
        worst = max(worst, float(err.max()))
        assert ratio <= FP16_REL, (
            f"{name}, batch {batch}: max |fp16 − fp32| / (1 + |y|) = {ratio:.3g} > {FP16_REL:g}")
    record_metric(f"{name}: max |fp16 − fp32|", worst)


def test_fp16_halves_the_file(solution, record_metric):
    model = unfused_graph()
    ratio = len(solution.to_fp16(model).SerializeToString()) / len(model.SerializeToString())
    record_metric("cnn: fp16 / fp32 file size", ratio, target=f"<= {SIZE_RATIO_MAX}",
                  verdict="PASS" if ratio <= SIZE_RATIO_MAX else "FAIL")
    assert ratio <= SIZE_RATIO_MAX, (
        f"the float16 cnn is {ratio:.2f}× the size of the float32 one (expected ≤ "
        f"{SIZE_RATIO_MAX}): are the weights really stored as float16?")


def _cuda():
    ok, why = available("nvidia-gpu")
    hardware("nvidia-gpu", ok and torch.cuda.is_available(), why or "torch sees no CUDA device")


def test_gpu_fp16_cuda_graph_speedup(solution, bench, record_metric):
    _cuda()
    model = make_net().eval().cuda()
    gen = torch.Generator().manual_seed(63)
    xs = [torch.rand(GPU_BATCH, 1, 8, 8, generator=gen).cuda() for _ in range(2)]
    fast = solution.make_fast(make_net().eval(), xs[0])
    results = []
    with torch.no_grad():
        for i, x in enumerate(xs):  # two inputs: the captured buffer must take new data
            got = fast(x)
            results.append((got, got.clone()))
            want = model(x)
            assert got.dtype == torch.float32 and got.shape == want.shape, (
                f"make_fast's callable returns {got.dtype} {tuple(got.shape)}, expected float32 "
                f"{tuple(want.shape)}")
            err = float(((got - want).abs() / (1 + want.abs())).max())
            assert err <= GPU_TOL, (
                f"input {i}: max |fast − fp32| / (1 + |y|) = {err:.3g} > {GPU_TOL:g}: does the "
                "callable copy each new input into the captured buffer?")
    first, first_then = results[0]
    try:
        kept = torch.equal(first, first_then)
    except RuntimeError:  # torch.compile's CUDA graphs refuse to read an overwritten output
        kept = False
    assert kept, (
        "the tensor make_fast's callable returned for the first input changed when it was "
        "called again: return a new tensor per call (static_out.float() or .clone()), not the "
        "captured output buffer")

    def eager(x):
        with torch.no_grad():
            return model(x)

    c = bench.compare(eager, fast, xs[1], name=f"fp16 + CUDA graph vs fp32 eager, batch "
                      f"{GPU_BATCH}", device="cuda")
    record_metric("gpu speed-up", c.speedup, unit="x")
    bench.check(c, "gpu_speedup")


def test_tensorrt_engine(solution, tmp_path, record_metric):
    _cuda()
    trt = package("tensorrt")
    bad = tmp_path / "not_onnx.onnx"
    bad.write_bytes(b"not an ONNX model")
    expect.raises(RuntimeError, solution.build_trt_engine, bad,
                  what="build_trt_engine", why="a file that is not an ONNX model")
    path = tmp_path / "net.onnx"
    torch.onnx.export(make_net().eval(), (digits_batch(4),), str(path), dynamo=True,
                      external_data=False, input_names=["input"], output_names=["logits"],
                      dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=1024)},),
                      verbose=False)
    t0 = time.perf_counter()
    blob = solution.build_trt_engine(path, max_batch=GPU_BATCH, fp16=True)
    record_metric("tensorrt fp16 build", time.perf_counter() - t0, unit="s")
    engine = trt.Runtime(trt.Logger(trt.Logger.WARNING)).deserialize_cuda_engine(bytes(blob))
    assert engine is not None, "build_trt_engine returned bytes TensorRT cannot deserialize"
    shapes = [tuple(s) for s in engine.get_tensor_profile_shape("input", 0)]
    assert shapes == [(1, 1, 8, 8), (GPU_BATCH, 1, 8, 8), (GPU_BATCH, 1, 8, 8)], (
        f"the engine's optimisation profile (min, opt, max) is {shapes}, the spec asks "
        f"for [(1, 1, 8, 8), ({GPU_BATCH}, 1, 8, 8), ({GPU_BATCH}, 1, 8, 8)]")
    context = engine.create_execution_context()
    x = torch.rand(GPU_BATCH, 1, 8, 8, generator=torch.Generator().manual_seed(1)).cuda()
    y = torch.empty(GPU_BATCH, 10, device="cuda")
    context.set_input_shape("input", tuple(x.shape))
    context.set_tensor_address("input", x.data_ptr())
    context.set_tensor_address("logits", y.data_ptr())
    stream = torch.cuda.current_stream()

    def run_engine():
        context.execute_async_v3(stream.cuda_stream)
        return y

    run_engine()
    stream.synchronize()
    with torch.no_grad():
        want = make_net().eval().cuda()(x)
    err = float(((y - want).abs() / (1 + want.abs())).max())
    assert err <= GPU_TOL, f"the FP16 TensorRT engine differs from torch by {err:.3g}"
    model = make_net().eval().cuda()

    def eager():
        with torch.no_grad():
            return model(x)

    from graders.bench import compare

    c = compare(eager, run_engine, name="TensorRT fp16 vs torch fp32 eager", device="cuda")
    record_metric("tensorrt speed-up over eager", c.speedup, unit="x")

"""Day 64 grader: the learner's ONNX export of a small BatchNorm CNN, checked with onnx's own
checker and run by the grader's onnxruntime session at batch 1 and 37 against torch; the
learner's onnxruntime runner and parity measure against the grader's; the TensorRT engine
only where tensorrt and an NVIDIA GPU are both present."""

import os
import time

import numpy as np
import pytest
import torch

from graders import expect
from graders.data.onnx_nets import digits_batch, make_net, unfused_graph
from graders.requires import hardware, package
from hardware.detect import available

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
torch.set_num_threads(1)
import onnx  # noqa: E402  (after the environment is set)
import onnxruntime as ort  # noqa: E402

PARITY_ATOL = 1e-4  # max |onnxruntime − torch| over every logit, float32
BATCHES = (1, 37)
EXAMPLE_BATCH = 4
TRT_ATOL = {False: 1e-2, True: 5e-2}  # TF32 / FP16 kernels


def _eval_logits(x: torch.Tensor) -> np.ndarray:
    model = make_net().eval()
    with torch.no_grad():
        return model(x).numpy()


def _session(path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def exported(solution, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    path = folder / "model.onnx"
    model = make_net()  # handed over in training mode, as after a training loop
    returned = solution.export_onnx(model, digits_batch(EXAMPLE_BATCH), path)
    return {"path": path, "returned": returned, "folder": folder}


@pytest.fixture(scope="module")
def grader_file(tmp_path_factory):
    """The grader's own ONNX file of the same net, so that run_onnx and max_abs_diff are checked
    on a file that is right whatever the learner's export_onnx does: the net written out by
    hand (input "input" with a symbolic batch axis, output "logits", initializer "fc2.bias"),
    which saves a second dynamo export (seconds) per grading."""
    path = tmp_path_factory.mktemp("grader") / "model.onnx"
    onnx.save(unfused_graph(), str(path))
    return path


def test_one_self_contained_file_that_passes_the_checker(exported):
    path = exported["path"]
    assert exported["returned"] is not None and os.fspath(exported["returned"]) == str(path), (
        f"export_onnx must return the path it wrote ({path}), got {exported['returned']!r}")
    assert path.is_file(), f"export_onnx wrote no file at {path}"
    others = sorted(p.name for p in exported["folder"].iterdir() if p != path)
    assert not others, (
        f"export_onnx left {others} next to the .onnx file: the weights went to an external "
        "data file (torch 2.13's default) — pass external_data=False for one self-contained file")
    model = onnx.load(str(path), load_external_data=False)
    external = [t.name for t in model.graph.initializer
                if t.data_location == onnx.TensorProto.EXTERNAL]
    assert not external, f"initializers stored outside the file: {external[:5]}"
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as exc:
        pytest.fail(f"onnx.checker rejects the exported model: {exc}", pytrace=False)


def test_names_and_the_dynamic_batch_axis(exported):
    model = onnx.load(str(exported["path"]))
    inputs = [i.name for i in model.graph.input]
    outputs = [o.name for o in model.graph.output]
    assert inputs == ["input"], f"the graph's inputs are {inputs}, the spec asks for ['input']"
    assert outputs == ["logits"], f"the graph's outputs are {outputs}, the spec asks for ['logits']"
    tensor = model.graph.input[0].type.tensor_type
    assert tensor.elem_type == onnx.TensorProto.FLOAT, "the input must be float32"
    dims = tensor.shape.dim
    shown = [d.dim_param or d.dim_value for d in dims]
    assert len(dims) == 4, f"the input has rank {len(dims)} ({shown}), expected 4: (N, 1, 8, 8)"
    assert not dims[0].HasField("dim_value") and dims[0].dim_param, (
        f"the input's batch axis is fixed to {dims[0].dim_value} ({shown}): export with "
        "dynamic_shapes so that dimension 0 is symbolic")
    assert [d.dim_value for d in dims[1:]] == [1, 8, 8], (
        f"the input's shape is {shown}: only the batch axis may be dynamic, the rest (1, 8, 8)")


def test_exported_for_inference(exported):
    ops = [n.op_type for n in onnx.load(str(exported["path"])).graph.node]
    assert "Dropout" not in ops and not _bn_in_training(exported["path"]), (
        f"the graph {ops} keeps a Dropout node (or BatchNorm in training mode): the model was "
        "exported in training mode — call model.eval() before torch.onnx.export")


@pytest.mark.parametrize("batch", BATCHES)
def test_onnxruntime_matches_torch(exported, batch):
    path = exported["path"]
    x = digits_batch(batch, offset=batch)
    try:
        got = _session(path).run(None, {"input": x.numpy()})[0]
    except Exception as exc:  # onnxruntime raises its own types for a bad shape
        pytest.fail(f"onnxruntime could not run the exported model at batch {batch}: "
                    f"{str(exc)[:300]} — is the batch axis really dynamic?", pytrace=False)
    want = _eval_logits(x)
    assert got.shape == want.shape, (
        f"at batch {batch} the model returns shape {got.shape}, torch gives {want.shape}: is "
        "the batch axis really dynamic, or was it baked into a reshape?")
    err = float(np.max(np.abs(got - want)))
    if err > PARITY_ATOL:
        ops = {n.op_type for n in onnx.load(str(path)).graph.node}
        why = (" — the graph has a Dropout node and/or BatchNorm on batch statistics: the model "
               "was exported in training mode; call model.eval() first"
               if "Dropout" in ops or _bn_in_training(path) else "")
        pytest.fail(f"at batch {batch}, max |onnxruntime − torch (eval mode)| = {err:.3g} > "
                    f"{PARITY_ATOL:g}{why}", pytrace=False)


def _bn_in_training(path) -> bool:
    for node in onnx.load(str(path)).graph.node:
        if node.op_type == "BatchNormalization":
            if any(a.name == "training_mode" and a.i for a in node.attribute):
                return True
    return False


def test_run_onnx_matches_the_graders_session(solution, grader_file):
    x = digits_batch(37, offset=5).double().numpy()  # float64 on purpose: run_onnx converts
    want = _session(grader_file).run(None, {"input": x.astype(np.float32)})[0]
    got = solution.run_onnx(grader_file, x)
    assert isinstance(got, np.ndarray), (
        f"run_onnx must return a numpy array, got {type(got).__name__}")
    assert got.dtype == np.float32 and got.shape == (37, 10), (
        f"run_onnx returned {got.dtype} {got.shape}, expected float32 (37, 10)")
    err = float(np.max(np.abs(got - want)))
    assert err <= 1e-6, f"run_onnx differs from onnxruntime's own run by {err:.3g} (> 1e-6)"
    single = solution.run_onnx(str(grader_file), digits_batch(1))  # a torch tensor, a str path
    assert np.asarray(single).shape == (1, 10), (
        "run_onnx on a (1, 1, 8, 8) tensor must give (1, 10)")


def test_max_abs_diff_measures_the_gap(solution, grader_file, tmp_path):
    x = digits_batch(37, offset=9)
    model = make_net()  # training mode: max_abs_diff compares with the model in eval mode
    got = solution.max_abs_diff(model, grader_file, x)
    want = float(np.max(np.abs(_session(grader_file).run(None, {"input": x.numpy()})[0]
                               - _eval_logits(x))))
    assert isinstance(got, float), f"max_abs_diff must return a float, got {type(got).__name__}"
    assert abs(got - want) <= 1e-6, (
        f"max_abs_diff = {got:.3g} on a faithful export, the grader measures {want:.3g}: compare "
        "with the model in eval mode (dropout off)")
    # a file whose fc2 bias is off by 0.5 in one class: the gap is exactly that
    broken = onnx.load(str(grader_file))
    for init in broken.graph.initializer:
        if init.name.endswith("fc2.bias"):
            bias = onnx.numpy_helper.to_array(init).copy()
            bias[3] += 0.5
            init.CopyFrom(onnx.numpy_helper.from_array(bias, init.name))
            break
    else:
        pytest.fail("the grader's export has no fc2.bias initializer (exporter changed?)")
    bad_path = tmp_path / "off_by_half.onnx"
    onnx.save(broken, str(bad_path))
    gap = solution.max_abs_diff(make_net(), bad_path, x)
    assert abs(gap - 0.5) <= 1e-5, (
        f"on a model whose logit 3 is off by exactly 0.5, max_abs_diff gives {gap:.4g}: it must "
        "be the largest absolute difference over every logit (not a mean, not signed)")


@pytest.mark.parametrize("fp16", [False, True], ids=["fp32", "fp16"])
def test_tensorrt_engine(solution, request, fp16, record_metric, tmp_path):
    ok, why = available("nvidia-gpu")
    hardware("nvidia-gpu", ok and torch.cuda.is_available(),
             why or "torch sees no CUDA device")
    trt = package("tensorrt")
    exported = request.getfixturevalue("exported")  # after the gates: skipped, not an error
    if not fp16:
        bad = tmp_path / "not_onnx.onnx"
        bad.write_bytes(b"not an ONNX model")
        expect.raises(RuntimeError, solution.build_trt_engine, bad,
                      what="build_trt_engine", why="a file that is not an ONNX model")
    t0 = time.perf_counter()
    blob = solution.build_trt_engine(exported["path"], max_batch=64, fp16=fp16)
    record_metric(f"tensorrt build ({'fp16' if fp16 else 'fp32'})", time.perf_counter() - t0,
                  unit="s")
    engine = trt.Runtime(trt.Logger(trt.Logger.WARNING)).deserialize_cuda_engine(bytes(blob))
    assert engine is not None, "build_trt_engine returned bytes TensorRT cannot deserialize"
    context = engine.create_execution_context()
    names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
    inp = next(n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT)
    out = next(n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT)
    shapes = [tuple(s) for s in engine.get_tensor_profile_shape(inp, 0)]
    assert shapes == [(1, 1, 8, 8), (32, 1, 8, 8), (64, 1, 8, 8)], (
        f"the engine's optimisation profile (min, opt, max) is {shapes}, the spec asks "
        f"for [(1, 1, 8, 8), (32, 1, 8, 8), (64, 1, 8, 8)]")
    for batch in BATCHES:
        x = digits_batch(batch, offset=batch).cuda().contiguous()
        y = torch.empty(batch, 10, device="cuda")
        context.set_input_shape(inp, tuple(x.shape))
        context.set_tensor_address(inp, x.data_ptr())
        context.set_tensor_address(out, y.data_ptr())
        stream = torch.cuda.current_stream()
        assert context.execute_async_v3(stream.cuda_stream), "TensorRT execution failed"
        stream.synchronize()
        err = float(np.max(np.abs(y.cpu().numpy() - _eval_logits(x.cpu()))))
        assert err <= TRT_ATOL[fp16], (
            f"TensorRT ({'fp16' if fp16 else 'fp32'}) at batch {batch}: max |error| {err:.3g} "
            f"> {TRT_ATOL[fp16]:g}")

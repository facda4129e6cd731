"""Day 67 grader: the learner converts the seeded digits CNN to a .tflite file with litert_torch
and makes an int8 dynamic-range copy with ai-edge-quantizer; the grader's own LiteRT
interpreter runs both files against torch at batch 1, 8 and 37, reads their input/output
details and sizes, and times the float32 file against torch eager in the same run (one
thread). The learner's runner and describe() are checked against the grader's interpreter on
the same files. One conversion per grade (~2-4 s)."""

import time

import numpy as np
import pytest
import torch

from graders.data.onnx_nets import digits_batch, make_net
from graders.requires import package

torch.set_num_threads(1)
litert_torch = package("litert_torch", "mltrack[litert]")  # the learner's converter
Interpreter = package("ai_edge_litert.interpreter", "mltrack[litert]").Interpreter

BATCH = 8  # the converted model's fixed batch
BATCHES = (1, 8, 37)  # 37 = 4 full chunks of 8 and one of 5
FP32_ATOL = 1e-4  # max |LiteRT − torch| over every logit, float32 file (measured ~1e-7)
INT8_ATOL = 1e-2  # the same for the int8 dynamic-range file (measured ~1e-3; logits ~0.15)
RUNNER_ATOL = 1e-6  # the learner's run_tflite against the grader's interpreter, same file


def _interpreter(path) -> Interpreter:
    it = Interpreter(model_path=str(path), num_threads=1)
    it.allocate_tensors()
    return it


def _run(path, x: np.ndarray) -> np.ndarray:
    """The grader's own run: chunks of the file's batch, the last padded with zeros."""
    it = _interpreter(path)
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    b = int(inp["shape"][0])
    rows = []
    for start in range(0, len(x), b):
        chunk = np.zeros((b, *x.shape[1:]), np.float32)
        chunk[:len(x[start:start + b])] = x[start:start + b]
        it.set_tensor(inp["index"], chunk)
        it.invoke()
        rows.append(it.get_tensor(out["index"])[:len(x[start:start + b])].copy())
    return np.concatenate(rows)


def _torch(x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return make_net().eval()(x).numpy()


@pytest.fixture(scope="module")
def fp32(solution, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fp32")
    path = folder / "model.tflite"
    t0 = time.perf_counter()
    try:
        returned = solution.convert(make_net(), BATCH, path)  # handed over in training mode
    except Exception as exc:
        text = " ".join(str(exc).split())[:300]
        why = ("the graph has a random op: dropout is live because the model is in training "
               "mode; call model.eval() first — " if "rand" in text else "")
        pytest.fail(f"convert raised {type(exc).__name__}: {why}{text}", pytrace=False)
    return {"path": path, "returned": returned, "seconds": time.perf_counter() - t0}


@pytest.fixture(scope="module")
def int8(solution, fp32, tmp_path_factory):
    dst = tmp_path_factory.mktemp("int8") / "model_int8.tflite"
    before = fp32["path"].read_bytes()
    returned = solution.quantize_dynamic(fp32["path"], dst)
    return {"path": dst, "returned": returned, "src_changed": fp32["path"].read_bytes() != before}


def test_convert_writes_a_tflite_flatbuffer(fp32, record_metric):
    record_metric("conversion time", fp32["seconds"], unit="s")
    path = fp32["path"]
    assert fp32["returned"] is not None and str(fp32["returned"]) == str(path), (
        f"convert must return the path it wrote ({path}), got {fp32['returned']!r}")
    assert path.is_file(), f"convert wrote no file at {path}"
    head = path.read_bytes()[:8]
    assert head[4:8] == b"TFL3", (
        f"{path.name} is not a TFLite flatbuffer (bytes 4-8 are {head[4:8]!r}, not b'TFL3')")


def test_interpreter_io_is_float32_at_the_asked_batch(fp32):
    it = _interpreter(fp32["path"])
    ins, outs = it.get_input_details(), it.get_output_details()
    assert len(ins) == 1 and len(outs) == 1, (
        f"the model has {len(ins)} input(s) and {len(outs)} output(s), expected one of each")
    shape_in = tuple(int(d) for d in ins[0]["shape"])
    shape_out = tuple(int(d) for d in outs[0]["shape"])
    assert shape_in == (BATCH, 1, 8, 8), (
        f"the input's shape is {shape_in}, expected ({BATCH}, 1, 8, 8): convert with an example "
        "of the asked batch (the converted batch is fixed)")
    assert shape_out == (BATCH, 10), f"the output's shape is {shape_out}, expected ({BATCH}, 10)"
    assert ins[0]["dtype"] == np.float32 and outs[0]["dtype"] == np.float32, (
        f"input {np.dtype(ins[0]['dtype']).name}, output {np.dtype(outs[0]['dtype']).name}: "
        "both must be float32")


@pytest.mark.parametrize("batch", BATCHES)
def test_fp32_file_matches_torch(fp32, batch):
    x = digits_batch(batch, offset=batch)
    err = float(np.max(np.abs(_run(fp32["path"], x.numpy()) - _torch(x))))
    assert err <= FP32_ATOL, (
        f"at batch {batch}, max |LiteRT − torch (eval mode)| = {err:.3g} > {FP32_ATOL:g}: was "
        "the model in eval mode (BatchNorm on running statistics) when converted?")


def test_int8_copy_is_dynamic_range(int8, fp32, bench, record_metric):
    path = int8["path"]
    assert int8["returned"] is not None and str(int8["returned"]) == str(path), (
        f"quantize_dynamic must return the path it wrote ({path}), got {int8['returned']!r}")
    assert path.is_file(), f"quantize_dynamic wrote no file at {path}"
    assert not int8["src_changed"], "quantize_dynamic modified the float32 file it was given"
    it = Interpreter(model_path=str(path))
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    assert inp["dtype"] == np.float32 and out["dtype"] == np.float32, (
        "a dynamic-range model takes and returns float32 (only the weights are int8); got "
        f"input {np.dtype(inp['dtype']).name}, output {np.dtype(out['dtype']).name}")
    weights = [tuple(t["shape"]) for t in it.get_tensor_details()
               if np.dtype(t["dtype"]) == np.int8 and len(t["shape"]) >= 2]
    assert len(weights) >= 4, (
        f"{len(weights)} int8 weight tensor(s) in the file, expected the 4 of conv1, conv2, "
        "fc1, fc2: use a dynamic-range int8 recipe (int8 weights, float activations)")
    # weight-only int8 dequantizes the weights to float32 before float kernels; dynamic range
    # feeds them to hybrid kernels as they are (_get_ops_details: private, but long-standing)
    dequantize = sum(op["op_name"] == "DEQUANTIZE" for op in it._get_ops_details())
    assert not dequantize, (
        f"the int8 file has {dequantize} DEQUANTIZE op(s): its weights are turned back into "
        "float32 before float kernels (a weight-only recipe) — dynamic range (dynamic_wi8_afp32) "
        "feeds the int8 weights to the conv and fully-connected kernels directly")
    a, b = fp32["path"].stat().st_size, path.stat().st_size
    record_metric("fp32_size", a / 1024, unit="KiB")
    record_metric("int8_size", b / 1024, unit="KiB")
    bench.check_value("int8_size_ratio", b / a, name="int8 / fp32 .tflite bytes")


@pytest.mark.parametrize("batch", (8, 37))
def test_int8_file_matches_torch(int8, batch):
    x = digits_batch(batch, offset=3 * batch)
    err = float(np.max(np.abs(_run(int8["path"], x.numpy()) - _torch(x))))
    assert err <= INT8_ATOL, (
        f"at batch {batch}, max |LiteRT int8 − torch| = {err:.3g} > {INT8_ATOL:g}")


def test_run_tflite_matches_the_graders_interpreter(solution, fp32, int8):
    for name, path in (("float32", fp32["path"]), ("int8", int8["path"])):
        for batch in BATCHES:
            x = digits_batch(batch, offset=7 + batch)
            feed = x.double().numpy() if batch == 37 else x  # float64 arrays and tensors
            try:
                got = solution.run_tflite(str(path) if batch == 1 else path, feed)
            except Exception as exc:
                text = " ".join(str(exc).split())[:200]
                why = ("feed the interpreter float32 (set_tensor refuses any other dtype)"
                       if "float64" in text.lower() else f"run every chunk of {BATCH} rows, "
                       "pad the last one with zeros, and keep only the real rows")
                pytest.fail(f"run_tflite on {batch} image(s) given as {_kind(feed)} raised "
                            f"{type(exc).__name__}: {text} — {why}", pytrace=False)
            assert isinstance(got, np.ndarray), (
                f"run_tflite must return a numpy array, got {type(got).__name__}")
            assert got.dtype == np.float32 and got.shape == (batch, 10), (
                f"run_tflite on {batch} image(s) ({name} file) returned {got.dtype} "
                f"{got.shape}, expected float32 ({batch}, 10): run every chunk of {BATCH}, "
                "pad the last one, and keep only the real rows")
            err = float(np.max(np.abs(got - _run(path, x.numpy()))))
            assert err <= RUNNER_ATOL, (
                f"run_tflite ({name} file, batch {batch}) differs from the grader's interpreter "
                f"by {err:.3g} > {RUNNER_ATOL:g}: are the rows in order and the padding dropped?")


def _kind(x) -> str:
    if isinstance(x, torch.Tensor):
        return f"a {str(x.dtype).removeprefix('torch.')} torch tensor"
    return f"a {x.dtype} numpy array"


def test_describe_reports_what_the_interpreter_sees(solution, fp32, int8):
    for path in (fp32["path"], int8["path"]):
        it = Interpreter(model_path=str(path))
        inp, out = it.get_input_details()[0], it.get_output_details()[0]
        want = {
            "input_shape": tuple(int(d) for d in inp["shape"]),
            "input_dtype": np.dtype(inp["dtype"]).name,
            "output_shape": tuple(int(d) for d in out["shape"]),
            "output_dtype": np.dtype(out["dtype"]).name,
            "int8_tensors": sum(int(np.dtype(t["dtype"]) == np.int8)
                                for t in it.get_tensor_details()),
            "size_bytes": path.stat().st_size,
        }
        got = solution.describe(path)
        assert isinstance(got, dict) and set(got) == set(want), (
            f"describe must return a dict with keys {sorted(want)}, got "
            f"{sorted(got) if isinstance(got, dict) else type(got).__name__}")
        for key, value in want.items():
            ok = type(got[key]) is type(value) and got[key] == value
            if ok and isinstance(value, tuple):  # (np.int32(8), ...) == (8, ...) too
                ok = all(type(d) is int for d in got[key])
            why = (": count the file's tensors, before allocate_tensors() (which adds the "
                   "kernels' scratch tensors)" if key == "int8_tensors" and got[key] != value
                   else "")
            assert ok, (f"describe({path.name})[{key!r}] = {got[key]!r}, the interpreter says "
                        f"{value!r} ({type(value).__name__}{' of int' * isinstance(value, tuple)})"
                        f"{why}")


def _invoker(path):
    it = _interpreter(path)
    inp, out = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    x = digits_batch(BATCH).numpy()

    def invoke():
        it.set_tensor(inp, x)
        it.invoke()
        return it.get_tensor(out)

    return invoke


def test_litert_is_faster_than_torch_eager(fp32, bench):
    model, x = make_net().eval(), digits_batch(BATCH)

    def eager():
        with torch.inference_mode():
            return model(x)

    c = bench.compare(eager, _invoker(fp32["path"]), name=f"LiteRT fp32 vs torch eager, "
                      f"batch {BATCH}", timer=time.thread_time, max_time_s=2.0)
    bench.check(c, "litert_speedup")


def test_litert_latency_on_arm(fp32, bench):
    bench.target("litert_latency")  # a machine the target does not list: skipped before measuring
    m = bench.measure(_invoker(fp32["path"]), name=f"LiteRT fp32 invoke, batch {BATCH}",
                      timer=time.thread_time, max_time_s=1.0, memory=False, rel_iqr_max=0.5)
    bench.check(m, "litert_latency")

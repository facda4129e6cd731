"""Day 118 grader: the learner's SwiGLU against numpy in float64 (float32 and float16); the
TensorRT-plugin-shaped class — output types and shapes (dynamic dims included), the format
table, the serialized bytes against the layout the spec fixes, clone, an in-place enqueue;
the ONNX schema and model of the custom domain; onnxruntime with the learner's Python kernel on
graphs the grader builds and on the learner's model. The real TensorRT build needs an NVIDIA
GPU and the tensorrt package: elsewhere skipped with the reason."""

import math
import os
import struct
import sys
import time

import numpy as np
import pytest

from graders import expect
from graders.requires import hardware, package
from hardware.detect import available

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
# onnxruntime_extensions imports transformers when it can (for tokenizer converters this day
# never uses): seconds of grading time. A None entry makes that import fail fast.
sys.modules.setdefault("transformers", None)
import onnx  # noqa: E402  (after the environment is set)
from onnx import TensorProto, helper  # noqa: E402


def _import_extensions_without_torch() -> None:
    """onnxruntime_extensions also imports torch when it can (for a Whisper converter this day
    never uses): seconds of every grade. Imported here once with torch blocked, the learner's
    own import finds it loaded; torch stays importable afterwards."""
    if "torch" in sys.modules:
        return
    sys.modules["torch"] = None
    try:
        import onnxruntime_extensions  # noqa: F401
    except ImportError:
        pass  # the checks that need it say so
    finally:
        del sys.modules["torch"]


_import_extensions_without_torch()

DOMAIN, OP_TYPE = "ai.onnx.contrib", "SwiGLU"
F32_ATOL, F32_RTOL = 1e-6, 1e-5  # float32 vs the float64 oracle: a few ulps
F16_ATOL, F16_RTOL = 1e-6, 1e-3  # float16: one rounding of the exact value is <= 4.9e-4 relative
MODEL_ATOL = 1e-4  # Gemm + SwiGLU in float32 vs float64 (measured ~2e-5)
LAYOUT = struct.Struct("<4sId")  # b"SWGL", version 1, beta as float64
DTYPES = ("float32", "float16", "bfloat16", "int8", "int32", "bool")
FORMATS = ("LINEAR", "CHW4", "CHW32", "HWC8")
# (a, b) pairs whose float16 products overflow when multiplied in float16 first
EXTREMES = [(300.0, -300.0), (250.0, 250.0), (-200.0, 300.0), (1e-3, 1e-3), (0.0, -7.5)]


def _x(rows: int, cols: int, seed: int, scale: float = 3.0) -> np.ndarray:
    return (scale * np.random.default_rng(seed).standard_normal((rows, cols))).astype(np.float32)


def _oracle(x, beta: float) -> np.ndarray:
    """a · b · sigmoid(beta · b) in float64, a and b the halves of the last axis (numpy: the
    grader never pays for importing torch unless a GPU is there)."""
    x = np.asarray(x, np.float64)
    a, b = np.split(x, 2, axis=-1)
    return a * b * np.exp(-np.logaddexp(0.0, -beta * b))  # sigmoid without overflow


def _close(got, want, atol: float, rtol: float) -> tuple[bool, float]:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    excess = np.abs(got - want) - (atol + rtol * np.abs(want))
    worst = float(np.nanmax(np.where(np.isnan(excess), np.inf, excess)))
    return worst <= 0 and not np.isnan(got).any(), worst


def _with_extremes(x: np.ndarray) -> np.ndarray:
    """x (n, 2d) with its first rows holding the EXTREMES pairs in the first column of a / b."""
    d = x.shape[1] // 2
    x = x.copy()
    for i, (a, b) in enumerate(EXTREMES):
        x[i, 0], x[i, d] = a, b
    return x


# --- the math -----------------------------------------------------------------------------


@pytest.mark.parametrize("beta", [1.0, 0.5, 2.5])
def test_swiglu_float32(solution, beta):
    x = _x(37, 24, seed=118)
    x[0, :4], x[0, 12:16] = (1.0, -2.0, 0.0, 4.0), (0.0, -1.0, 3.0, -30.0)
    before = x.copy()
    got = solution.swiglu(x, beta)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == (37, 12), (
        f"swiglu returned {getattr(got, 'dtype', type(got).__name__)} "
        f"{getattr(got, 'shape', '')}, expected float32 (37, 12): the last axis halves")
    assert np.array_equal(x, before), "swiglu modified its input"
    ok, worst = _close(got, _oracle(before, beta), F32_ATOL, F32_RTOL)
    assert ok, (
        f"swiglu(x, beta={beta}) differs from a·b·sigmoid(beta·b) (a = the first half of the "
        f"last axis, b = the second) beyond {F32_ATOL:g} + {F32_RTOL:g}·|y| (by {worst:.3g} "
        "more): check which half is gated, the split (two halves, not interleaved) and beta")


def test_swiglu_any_rank_and_odd_axis(solution):
    x = _x(10, 8, seed=3).reshape(2, 5, 8)
    got = solution.swiglu(x, 1.0)
    assert got.shape == (2, 5, 4), f"swiglu on (2, 5, 8) returned {got.shape}, expected (2, 5, 4)"
    ok, worst = _close(got, _oracle(x, 1.0), F32_ATOL, F32_RTOL)
    assert ok, f"swiglu on a (2, 5, 8) input differs by {worst:.3g} beyond the tolerance"
    expect.raises(ValueError, solution.swiglu, _x(3, 7, seed=4), 1.0,
                  what="swiglu", why="a last axis of odd size (7)")


def test_swiglu_float16(solution):
    x = _with_extremes(_x(37, 24, seed=16)).astype(np.float16)
    before = x.copy()
    got = solution.swiglu(x, 1.0)
    assert got.dtype == np.float16 and got.shape == (37, 12), (
        f"swiglu on float16 returned {got.dtype} {got.shape}, expected float16 (37, 12)")
    bad = [EXTREMES[i] for i in range(len(EXTREMES)) if not np.isfinite(got[i, 0])]
    assert not bad, (
        f"swiglu in float16 gave inf/nan for (a, b) = {bad}, whose exact results fit float16: "
        "compute in float32 and round to float16 once at the end (a·b alone overflows float16)")
    assert np.array_equal(x, before), "swiglu modified its float16 input"
    ok, worst = _close(got, _oracle(before, 1.0), F16_ATOL, F16_RTOL)
    assert ok, (
        f"swiglu on float16 differs from the float64 oracle beyond {F16_ATOL:g} + "
        f"{F16_RTOL:g}·|y| (by {worst:.3g} more): compute in float32, round once")


# --- the TensorRT-plugin-shaped class ----------------------------------------------------


def test_plugin_identity_and_types(solution):
    plugin = solution.SwiGLUPlugin(1.5)
    got = (plugin.plugin_name, plugin.plugin_version, plugin.plugin_namespace)
    assert got == (OP_TYPE, "1", DOMAIN), (
        f"plugin name, version, namespace are {got}, expected ('SwiGLU', '1', "
        "'ai.onnx.contrib'): TensorRT's ONNX parser finds the plugin by them")
    assert plugin.beta == 1.5 and plugin.get_num_outputs() == 1, "beta 1.5, one output"
    for dtype in ("float32", "float16"):
        out = plugin.get_output_data_types([dtype])
        assert out == [dtype], (
            f"get_output_data_types(['{dtype}']) returned {out}, expected ['{dtype}']: the "
            "output has the input's type")
    for types in (["int8"], ["int32"], ["bfloat16"], ["float32", "float32"]):
        expect.raises(TypeError, plugin.get_output_data_types, types,
                      what="get_output_data_types", why=f"the input types {types}")
    for given in (2, np.float32(0.5)):  # kept as float(beta): what serialize packs as a double
        kept = solution.SwiGLUPlugin(given).beta
        assert type(kept) is float and kept == float(given), (
            f"SwiGLUPlugin({given!r}).beta is {kept!r} ({type(kept).__name__}): keep beta as "
            "the Python float float(beta)")
    for beta in (0.0, -1.0, math.nan, math.inf):
        expect.raises(ValueError, solution.SwiGLUPlugin, beta,
                      what="SwiGLUPlugin", why=f"beta = {beta} (must be finite and > 0)")


SHAPES = [((4, 16), (4, 8)), (("batch", 16), ("batch", 8)), ((-1, 3, 10), (-1, 3, 5)),
          ((2,), (1,)), (("n", "seq", 6), ("n", "seq", 3)), ((1, 2), (1, 1))]


def test_plugin_output_shapes(solution):
    plugin = solution.SwiGLUPlugin()
    for shape, want in SHAPES:
        got = plugin.get_output_shapes([shape])
        assert isinstance(got, list) and len(got) == 1 and tuple(got[0]) == want, (
            f"get_output_shapes([{shape}]) returned {got}, expected [{want}]: the last axis "
            "halves, every other dim (sizes, -1 and names of dynamic dims) passes through")
    for shape in ((4, 15), (4, "d"), (4, -1), (4, 0), ()):
        expect.raises(ValueError, plugin.get_output_shapes, [shape],
                      what="get_output_shapes", why=f"the input shape {shape}")


def _want_format(pos: int, in_out) -> bool:
    dtype, fmt = in_out[pos]
    ok = fmt == "LINEAR" and dtype in ("float32", "float16")
    return ok and (pos == 0 or dtype == in_out[0][0])


def test_plugin_format_combinations(solution):
    plugin = solution.SwiGLUPlugin()
    combos = [(a, b) for a in DTYPES for b in FORMATS]
    wrong = []
    for first in combos:
        for second in combos:
            in_out = [first, second]
            for pos in (0, 1):
                got = plugin.supports_format_combination(pos, in_out, 1)
                if bool(got) != _want_format(pos, in_out) or not isinstance(got, bool):
                    wrong.append((pos, in_out, got))
    assert not wrong, (
        f"supports_format_combination is wrong for {len(wrong)} of {2 * len(combos) ** 2} "
        f"cases, e.g. pos={wrong[0][0]}, in_out={wrong[0][1]} → {wrong[0][2]!r}: a bool, "
        "True only for LINEAR float32/float16, and the output only in the input's type")


def test_plugin_serialization(solution):
    cls = solution.SwiGLUPlugin
    for beta in (1.0, 0.1, 1.702, 1 / 3):
        data = cls(beta).serialize()
        want = LAYOUT.pack(b"SWGL", 1, beta)
        assert isinstance(data, bytes) and data == want, (
            f"SwiGLUPlugin({beta!r}).serialize() gave {bytes(data)[:32]!r}, expected "
            f"{want!r}: struct.pack('<4sId', b'SWGL', 1, beta) (beta as float64: float32 "
            "loses bits)")
        back = cls.deserialize(want)
        assert isinstance(back, cls) and back.beta == beta, (
            f"deserialize of the bytes for beta={beta!r} gave beta={getattr(back, 'beta', back)!r}")
    for bad, why in ((b"SWGL" + b"\0" * 8, "12 bytes"), (LAYOUT.pack(b"GELU", 1, 1.0), "magic"),
                     (LAYOUT.pack(b"SWGL", 2, 1.0), "version 2"),
                     (LAYOUT.pack(b"SWGL", 1, 1.0) + b"\0", "17 bytes"),
                     (LAYOUT.pack(b"SWGL", 1, -2.0), "beta -2")):
        expect.raises(ValueError, cls.deserialize, bad, what="SwiGLUPlugin.deserialize",
                      why=f"bytes with the wrong {why}")


def test_plugin_clone_is_independent(solution):
    plugin = solution.SwiGLUPlugin(0.75)
    twin = plugin.clone()
    assert isinstance(twin, solution.SwiGLUPlugin) and twin is not plugin, (
        "clone must return a new SwiGLUPlugin (TensorRT gives each engine its own copy)")
    assert twin.beta == 0.75, f"the clone's beta is {twin.beta}, expected 0.75"
    twin.beta = 2.0
    assert plugin.beta == 0.75, "changing the clone's beta changed the original"


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_plugin_enqueue_writes_into_the_output_buffer(solution, dtype):
    plugin = solution.SwiGLUPlugin(1.25)
    x = _with_extremes(_x(9, 10, seed=7)).astype(dtype)
    before = x.copy()
    out = np.full((9, 5), np.nan, dtype=dtype)
    outputs = [out]
    returned = plugin.enqueue([x], outputs)
    assert returned is None, f"enqueue returned {type(returned).__name__}: it returns None"
    assert outputs[0] is out, (
        "enqueue replaced outputs[0] with a new array: TensorRT's output buffers are fixed "
        "memory, write into them (outputs[0][...] = ...)")
    assert not np.isnan(out).any(), (
        "the output buffer still holds its initial NaNs after enqueue: write the result into "
        "outputs[0] in place")
    assert np.array_equal(x, before), "enqueue modified its input"
    atol, rtol = (F32_ATOL, F32_RTOL) if dtype == np.float32 else (F16_ATOL, F16_RTOL)
    ok, worst = _close(out, _oracle(before, 1.25), atol, rtol)
    assert ok, (f"enqueue wrote {np.dtype(dtype).name} results {worst:.3g} beyond the "
                "tolerance of a·b·sigmoid(beta·b) with the plugin's beta")


# --- ONNX: the schema and the learner's model --------------------------------------------


def test_the_onnx_schema(solution):
    try:
        for _ in range(3):
            solution.register_onnx_schema()
    except onnx.defs.SchemaError as exc:
        pytest.fail("register_onnx_schema failed on a later call: register only when "
                    f"onnx.defs.has(...) says it is not there ({' '.join(str(exc).split())})",
                    pytrace=False)
    assert onnx.defs.has(OP_TYPE, DOMAIN), f"no onnx schema for {DOMAIN}::{OP_TYPE}"
    schema = onnx.defs.get_schema(OP_TYPE, 1, DOMAIN)
    assert len(schema.inputs) == 1 and len(schema.outputs) == 1, "one input X, one output Y"
    assert "beta" in schema.attributes and (
        schema.attributes["beta"].type == onnx.defs.OpSchema.AttrType.FLOAT), (
        "the schema needs a FLOAT attribute 'beta'")
    types = {t.type_param_str: set(t.allowed_type_strs) for t in schema.type_constraints}
    want = {"tensor(float)", "tensor(float16)"}
    assert types.get(schema.inputs[0].type_str) == want and (
        schema.outputs[0].type_str == schema.inputs[0].type_str), (
        f"the type constraints are {types}: X and Y share T = {sorted(want)}")


WEIGHT = _x(24, 16, seed=1, scale=0.5)  # Linear 16 → 24, then SwiGLU → 12
BIAS = _x(1, 24, seed=2, scale=0.5)[0]
BETA = 1.702


@pytest.fixture(scope="module")
def model_path(solution, tmp_path_factory):
    model = solution.swiglu_model(WEIGHT.copy(), BIAS.copy(), BETA)
    assert isinstance(model, onnx.ModelProto), (
        f"swiglu_model returned {type(model).__name__}, expected an onnx.ModelProto")
    path = tmp_path_factory.mktemp("model") / "swiglu.onnx"
    onnx.save(model, str(path))
    return path


def test_the_onnx_model(model_path):
    model = onnx.load(str(model_path))
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        pytest.fail(f"onnx.checker rejects the model: {' '.join(str(exc).split())[:400]}",
                    pytrace=False)
    ops = [(n.domain or "ai.onnx") + "::" + n.op_type for n in model.graph.node]
    custom = [n for n in model.graph.node if n.op_type == OP_TYPE]
    assert len(custom) == 1 and custom[0].domain == DOMAIN, (
        f"the graph is {ops}: one {OP_TYPE} node in the domain {DOMAIN!r} (onnxruntime-"
        "extensions runs Python kernels only there)")
    beta = [helper.get_attribute_value(a) for a in custom[0].attribute if a.name == "beta"]
    assert len(beta) == 1 and np.float32(beta[0]) == np.float32(BETA), (
        f"the node's float attribute beta is {beta}, expected [{BETA}]")
    imports = {o.domain: o.version for o in model.opset_import}
    assert imports.get(DOMAIN) == 1, f"the model imports {imports}: add {DOMAIN!r} version 1"
    assert imports.get("") == 18, (
        f"the model imports {imports}: the standard domain '' at opset 18, as the spec fixes "
        "(onnx's default is its own newest opset)")
    assert model.ir_version == 10, (
        f"the model's ir_version is {model.ir_version}, the spec asks for 10: onnx writes its "
        "own newest by default, which older readers refuse")
    ins, outs = model.graph.input, model.graph.output
    assert [i.name for i in ins] == ["input"] and [o.name for o in outs] == ["output"], (
        "one graph input 'input' and one output 'output' (the weights are initializers)")
    for value, width in ((ins[0], 16), (outs[0], 12)):
        dims = value.type.tensor_type.shape.dim
        assert len(dims) == 2 and not dims[0].HasField("dim_value") and dims[0].dim_param, (
            f"{value.name}: the batch axis must be symbolic (a dim_param such as 'batch')")
        assert dims[1].dim_value == width, (
            f"{value.name}: the feature axis is {dims[1]}, expected {width}")
    batch = [v.type.tensor_type.shape.dim[0].dim_param for v in (ins[0], outs[0])]
    assert batch[0] == batch[1], (
        f"the batch dims of input and output are named {batch}: one symbolic batch, the same "
        "dim_param on both")


def _session(solution, path):
    try:
        return solution.ort_session(path)
    except Exception as exc:  # onnxruntime's own exception types
        if "Conflicting with a registered kernel" in str(exc):
            pytest.fail("ort_session failed on a later call: the Python kernel was registered "
                        "again — register it once per process", pytrace=False)
        raise


def _one_node(beta: float) -> onnx.ModelProto:
    node = helper.make_node(OP_TYPE, ["X"], ["Y"], domain=DOMAIN, beta=beta)
    graph = helper.make_graph([node], "one_node",
                              [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["n", 8])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["n", 4])])
    return helper.make_model(graph, ir_version=10, opset_imports=[
        helper.make_opsetid("", 18), helper.make_opsetid(DOMAIN, 1)])


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.5])
def test_the_python_kernel_reads_beta(solution, tmp_path, beta):
    path = tmp_path / f"one_node_{beta}.onnx"
    onnx.save(_one_node(beta), str(path))
    x = _x(11, 8, seed=int(beta * 10))
    got = _session(solution, path).run(None, {"X": x})[0]
    assert got.dtype == np.float32 and got.shape == (11, 4), (
        f"the kernel returned {got.dtype} {got.shape}, expected float32 (11, 4)")
    ok, worst = _close(got, _oracle(x, beta), F32_ATOL, F32_RTOL)
    assert ok, (
        f"the Python kernel on a one-node graph with beta={beta} is {worst:.3g} beyond the "
        "tolerance: read beta from the node's attribute (kwargs['beta'])")


@pytest.mark.parametrize("batch", [1, 37])
def test_onnxruntime_runs_the_model(solution, model_path, batch):
    x = _x(batch, 16, seed=batch)
    got = _session(solution, model_path).run(None, {"input": x})[0]
    want = _oracle(x.astype(np.float64) @ WEIGHT.T.astype(np.float64) + BIAS, BETA)
    err = float(np.max(np.abs(got - want))) if got.shape == want.shape else math.inf
    assert err <= MODEL_ATOL, (
        f"at batch {batch} the model in onnxruntime gives {got.shape}, {err:.3g} from "
        f"x·Wᵀ + b → SwiGLU(beta={BETA}) (tolerance {MODEL_ATOL:g})")


# --- the real TensorRT plugin: NVIDIA GPU + tensorrt only --------------------------------


def test_tensorrt_plugin(solution, request, record_metric, tmp_path):
    ok, why = available("nvidia-gpu")
    hardware("nvidia-gpu", ok, why)  # before importing torch: a skip costs nothing
    torch = package("torch")
    hardware("nvidia-gpu", torch.cuda.is_available(), "torch sees no CUDA device")
    trt = package("tensorrt")
    model_path = request.getfixturevalue("model_path")
    bad = tmp_path / "not_onnx.onnx"
    bad.write_bytes(b"not an ONNX model")
    expect.raises(RuntimeError, solution.build_trt_engine, bad,
                  what="build_trt_engine", why="a file that is not an ONNX model")
    t0 = time.perf_counter()
    blob = solution.build_trt_engine(model_path)
    record_metric("tensorrt build with the plugin", time.perf_counter() - t0, unit="s")
    engine = trt.Runtime(trt.Logger(trt.Logger.WARNING)).deserialize_cuda_engine(bytes(blob))
    assert engine is not None, "build_trt_engine returned bytes TensorRT cannot deserialize"
    shapes = [tuple(s) for s in engine.get_tensor_profile_shape("input", 0)]
    assert shapes == [(1, 16), (32, 16), (64, 16)], (
        f"the engine's optimisation profile (min, opt, max) is {shapes}, the spec asks "
        "for [(1, 16), (32, 16), (64, 16)]")
    context = engine.create_execution_context()
    x = torch.from_numpy(_x(37, 16, seed=37)).cuda()
    y = torch.empty(37, 12, device="cuda")
    context.set_input_shape("input", tuple(x.shape))
    context.set_tensor_address("input", x.data_ptr())
    context.set_tensor_address("output", y.data_ptr())
    stream = torch.cuda.current_stream()
    start = time.perf_counter()
    assert context.execute_async_v3(stream.cuda_stream), "TensorRT execution failed"
    stream.synchronize()
    record_metric("tensorrt run, batch 37", (time.perf_counter() - start) * 1e3, unit="ms")
    xs = x.cpu().double().numpy()
    want = _oracle(xs @ WEIGHT.T.astype(np.float64) + BIAS, BETA)
    err = float(np.max(np.abs(y.cpu().numpy() - want)))
    assert err <= 1e-2, f"TensorRT with the plugin is {err:.3g} from the oracle (> 1e-2)"

"""Day 68 grader: the learner's onnxruntime and LiteRT runners, timing harness and table. The
grader writes both files of the same seeded digits CNN itself (the hand-written ONNX graph and
one litert_torch conversion at batch 8), checks the runners against its own sessions and for
extra threads, checks the harness on a fake function whose timing is known, then compares the
learner's table with its own measurement of the same two backends in the same run."""

import inspect
import os
import time

import numpy as np
import pytest
import torch

from graders.data.onnx_nets import digits_batch, make_net, unfused_graph
from graders.requires import package

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
torch.set_num_threads(1)
import onnx  # noqa: E402  (after the environment is set)
import onnxruntime as ort  # noqa: E402

litert_torch = package("litert_torch", "mltrack[litert]")  # the grader's own conversion
Interpreter = package("ai_edge_litert.interpreter", "mltrack[litert]").Interpreter

BATCH = 8
RUNNER_ATOL = 1e-6  # a runner against the grader's own session / interpreter, same file
BACKEND_ATOL = 1e-4  # onnxruntime vs LiteRT on the same net (measured ~1e-7)
MEDIAN_FACTOR = 3.0  # the learner's median vs the grader's, per backend
RATIO_FACTOR = 2.0  # the learner's onnxruntime/LiteRT ratio vs the grader's
SUMMARY_KEYS = {"median_ms", "p90_ms", "images_per_s"}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    onnx_path, tflite_path = folder / "model.onnx", folder / "model.tflite"
    onnx.save(unfused_graph(), str(onnx_path))
    litert_torch.convert(make_net().eval(), (torch.zeros(BATCH, 1, 8, 8),)).export(
        str(tflite_path))
    return {"onnx": onnx_path, "tflite": tflite_path}


def _ort(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return lambda x: sess.run(None, {"input": x})[0]


def _litert(path):
    it = Interpreter(model_path=str(path), num_threads=1)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]

    def run(x):
        it.set_tensor(inp, x)
        it.invoke()
        return it.get_tensor(out)

    return run


def _threads() -> int:
    return len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 0


def _check_runner(make, path, grader_run, name, knob):
    x = digits_batch(BATCH, offset=11).numpy()
    before = _threads()
    run = make(path)
    got = run(x)
    added = _threads() - before
    assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == (BATCH, 10), (
        f"{name} runner returned {type(got).__name__} {getattr(got, 'dtype', '')} "
        f"{getattr(got, 'shape', '')}, expected a float32 numpy array ({BATCH}, 10)")
    err = float(np.max(np.abs(got - grader_run(path)(x))))
    assert err <= RUNNER_ATOL, (
        f"{name} runner differs from the grader's own run of the same file by {err:.3g}")
    if before and (os.cpu_count() or 1) >= 2:
        assert added <= 0, (
            f"building and calling the {name} runner started {added} more thread(s): pin it "
            f"to one thread ({knob})")
    del run


def test_onnx_runner(solution, files):
    _check_runner(solution.onnx_runner, files["onnx"], _ort, "onnxruntime",
                  "SessionOptions.intra_op_num_threads = inter_op_num_threads = 1")


def test_litert_runner(solution, files):
    _check_runner(solution.litert_runner, files["tflite"], _litert, "LiteRT",
                  "Interpreter(..., num_threads=1)")


def test_time_call_warms_up_then_times_each_call(solution):
    calls = []
    marker = object()

    def fake(x):  # warm-up calls are slow (a cold cache), timed calls take ~2 ms each
        assert x is marker, "time_call must pass x to fn unchanged"
        calls.append(time.perf_counter())
        time.sleep(0.15 if len(calls) <= 3 else 0.002)

    samples = solution.time_call(fake, marker, warmup=3, repeats=7)
    assert len(calls) == 10, (
        f"time_call(fn, x, warmup=3, repeats=7) called fn {len(calls)} times, expected 3 + 7")
    assert isinstance(samples, list) and all(isinstance(s, float) for s in samples), (
        f"time_call must return a list of Python floats (seconds per call), got {samples!r}")
    assert not samples or min(samples) < 1.0, (
        f"samples of {min(samples):.3g} to {max(samples):.3g} for calls of 2 ms: return "
        "seconds (perf_counter differences), not milliseconds")
    assert not samples or max(samples) < 0.1, (
        f"a sample of {max(samples):.3g} s: the slow warm-up calls (150 ms) were timed — the "
        "first `warmup` calls are run untimed")
    assert len(samples) == 7, (
        f"time_call must return `repeats` (7) per-call times, got {len(samples)}: {samples!r}")
    assert min(samples) >= 0.0019, (
        f"a timed call sleeps 2 ms but the smallest sample is {min(samples):.3g} s: the "
        "samples are seconds per call, each call timed on its own")
    defaults = {k: p.default for k, p in inspect.signature(solution.time_call).parameters.items()
                if k in ("warmup", "repeats")}
    assert defaults == {"warmup": 10, "repeats": 50}, (
        f"time_call's defaults are {defaults}, the spec says warmup=10, repeats=50")


@pytest.mark.parametrize(("samples", "batch", "median", "p90"), [
    ([5, 1, 3, 2, 4, 10, 6, 8, 7, 9], BATCH, 5.5, 9),  # n = 10: p90 is exactly the 9th smallest
    ([4, 1, 3, 2, 5, 9, 7, 8, 6, 11, 10], BATCH, 6, 10),  # n = 11: ceil(9.9) = the 10th
    ([3, 1, 2], BATCH, 2, 3),  # ceil(2.7) = 3
    ([6, 2, 5, 1, 4, 3], 3, 3.5, 6),  # ceil(5.4) = 6, not round(5.4) = 5; a batch other than 8
], ids=["n10", "n11", "n3", "n6-batch3"])
def test_summarize(solution, samples, batch, median, p90):
    got = solution.summarize([s / 1000 for s in samples], batch)
    assert isinstance(got, dict) and set(got) == SUMMARY_KEYS, (
        f"summarize must return a dict with keys {sorted(SUMMARY_KEYS)}, got {got!r}")
    want = {"median_ms": median, "p90_ms": p90, "images_per_s": batch / (median / 1000)}
    for key, value in want.items():
        assert isinstance(got[key], float | int) and abs(got[key] - value) <= 1e-9 * value, (
            f"summarize({samples} ms, batch={batch})[{key!r}] = {got[key]!r}, expected {value:g} "
            "(median: the middle value, the mean of the two middle ones for an even count; p90: "
            "nearest rank, the ceil(0.9·n)-th smallest; milliseconds; images per second: the "
            "batch given / the median in seconds)")


def _measure(files, x, bench):
    runs = {"onnxruntime": _ort(files["onnx"]), "litert": _litert(files["tflite"])}
    medians = {name: bench.measure(run, x, name=f"{name}, batch {BATCH} (grader)",
                                   max_time_s=0.6, memory=False, rel_iqr_max=0.5).median_s * 1e3
               for name, run in runs.items()}
    c = bench.compare(runs["onnxruntime"], runs["litert"], x, max_time_s=1.0,
                      name="LiteRT vs onnxruntime (grader; > 1: LiteRT faster)")
    return medians, c.speedup


def _gaps(table, medians, ratio):
    gaps = []
    for name, ms in medians.items():
        f = table[name]["median_ms"] / ms
        if not 1 / MEDIAN_FACTOR <= f <= MEDIAN_FACTOR:
            gaps.append(f"{name}: your median {table[name]['median_ms']:.4g} ms, the grader's "
                        f"{ms:.4g} ms ({f:.3g}×)")
    mine = table["onnxruntime"]["median_ms"] / table["litert"]["median_ms"]
    if not 1 / RATIO_FACTOR <= mine / ratio <= RATIO_FACTOR:
        gaps.append(f"onnxruntime/LiteRT: yours {mine:.3g}, the grader's {ratio:.3g}")
    return gaps


def test_the_table_matches_the_graders_measurement(solution, files, bench, record_metric):
    x = digits_batch(BATCH, offset=1).numpy()
    try:
        table = solution.compare_backends(files["onnx"], files["tflite"], x.astype(np.float64))
    except Exception as exc:
        pytest.fail(f"compare_backends on a float64 batch raised {type(exc).__name__}: "
                    f"{str(exc)[:200]} — convert x to a contiguous float32 array first",
                    pytrace=False)
    keys = {"onnxruntime", "litert", "max_abs_diff"}
    assert isinstance(table, dict) and set(table) == keys, (
        f"compare_backends must return a dict with keys {sorted(keys)}, got {table!r}")
    for name in ("onnxruntime", "litert"):
        assert isinstance(table[name], dict) and set(table[name]) == SUMMARY_KEYS, (
            f"table[{name!r}] must be summarize()'s dict, got {table[name]!r}")
        bad = {k: v for k, v in table[name].items() if not isinstance(v, float | int)}
        assert not bad, f"table[{name!r}] holds values that are not numbers: {bad!r}"
        for key, value in table[name].items():
            record_metric(f"{name} {key} (yours)", value,
                          unit="img/s" if key == "images_per_s" else "ms")
    want = float(np.max(np.abs(_ort(files["onnx"])(x) - _litert(files["tflite"])(x))))
    assert want <= BACKEND_ATOL, f"grader error: the two backends differ by {want:.3g}"
    assert isinstance(table["max_abs_diff"], float) and abs(table["max_abs_diff"] - want) <= 1e-6, (
        f"max_abs_diff = {table['max_abs_diff']!r}, the grader measures {want:.3g} between the "
        "two backends' outputs on the same batch")
    medians, ratio = _measure(files, x, bench)
    gaps = _gaps(table, medians, ratio)
    if gaps:  # one more try of both before a verdict: a busy machine can upset one run
        table = solution.compare_backends(files["onnx"], files["tflite"], x)
        medians, ratio = _measure(files, x, bench)
        gaps = _gaps(table, medians, ratio)
    if gaps:
        pytest.fail("your table disagrees with the grader's measurement of the same backends "
                    f"(medians within {MEDIAN_FACTOR:g}×, the ratio within {RATIO_FACTOR:g}×): "
                    + "; ".join(gaps) + " — time one call at a time after the warm-up, build "
                    "each session/interpreter once, outside the timed calls", pytrace=False)


@pytest.mark.parametrize("backend", ["onnxruntime", "litert"])
def test_latency_on_arm(files, bench, backend):
    metric = f"{backend}_latency"
    bench.target(metric)  # a machine the target does not list: skipped before measuring
    run = _ort(files["onnx"]) if backend == "onnxruntime" else _litert(files["tflite"])
    m = bench.measure(run, digits_batch(BATCH).numpy(), name=f"{backend}, batch {BATCH}",
                      timer=time.thread_time, max_time_s=1.0, memory=False, rel_iqr_max=0.5)
    bench.check(m, metric)

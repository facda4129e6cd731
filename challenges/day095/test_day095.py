"""Day 95 grader: a PTQ-vs-QAT study on a small digits CNN with an outlier channel. The
learner's post-training static quantisation and quantisation-aware training are checked as
int8 models (static modules, the engine's qconfig, the fp32 model untouched, PTQ against the
grader's own PTQ, QAT's accuracy); then the learner's measured table (accuracy, size,
latency) is re-measured by the grader on the same models, and the learner's conclusions —
data, not prose — must agree with the grader's numbers."""

import copy
import statistics
import time
import warnings

import pytest
import torch
import torch.ao.quantization as tq
from torch import nn
from torch.ao.nn import quantized as nnq
from torch.ao.nn.quantized import dynamic as nnqd

from graders import bench as harness
from graders import expect, requires
from graders.data.digits_cnn import load_digits_images, size_bytes
from graders.data.quant_study import FUSE, study_cnn

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=UserWarning)  # torch.ao's deprecation notes
warnings.filterwarnings("ignore", category=DeprecationWarning)
__warningregistry__: dict = {}
LAYERS = ("conv1", "conv2", "fc1", "fc2")
CALIBRATION, BENCH_BATCH = 256, 64
PTQ_TOLERANCE_PT = 1.5  # the learner's PTQ vs the grader's PTQ (same recipe)
SCALE_FACTOR = 1.5  # and each layer's output scale
QAT_MAX_DROP_PT = 1.5  # QAT below fp32
LATENCY_BAND = (1 / 3, 3.0)  # the learner's latencies vs the grader's: the median of the ratios
DRIFT_MAX = 1.5  # the grader's own two measurements further apart: the machine is too busy
METHODS = ("fp32", "ptq", "qat")
ORDER = ("qat", "fp32", "ptq")  # the order measure is given the models: not alphabetical


@pytest.fixture(scope="module")
def data():
    return load_digits_images()


@pytest.fixture(scope="module")
def fp32():
    return study_cnn()


def snapshot(model):
    return ({k: v.clone() for k, v in model.state_dict().items()},
            {n: type(m) for n, m in model.named_modules()}, model.training)


def unchanged(before, model) -> bool:
    weights, types, training = before
    now = model.state_dict()
    return (set(weights) == set(now) and all(torch.equal(weights[k], now[k]) for k in weights)
            and types == {n: type(m) for n, m in model.named_modules()}
            and training == model.training)


@pytest.fixture(scope="module")
def ptq_result(solution, fp32, data):
    before = snapshot(fp32)
    model = solution.ptq(fp32, data.x_train[:CALIBRATION].clone())
    return model, unchanged(before, fp32)


@pytest.fixture(scope="module")
def qat_result(solution, fp32, data):
    before = snapshot(fp32)
    model = solution.qat(fp32, data.x_train.clone(), data.y_train.clone(), epochs=1, lr=1e-3,
                         seed=0)
    return model, unchanged(before, fp32)


@torch.inference_mode()
def correct(model, data) -> int:
    return int((model(data.x_test).argmax(1) == data.y_test).sum())


def int8_model(result, what: str):
    """The returned model once it is an int8 model mapping float images to float logits."""
    model, _ = result
    kinds = {"static": [], "dynamic": [], "float": []}
    for name, m in model.named_modules():
        if isinstance(m, nnqd.Linear):
            kinds["dynamic"].append(name)
        elif isinstance(m, nnq.Conv2d | nnq.Linear):
            kinds["static"].append(name)
        elif isinstance(m, nn.Conv2d | nn.Linear):
            kinds["float"].append(name)
    if kinds["float"] or kinds["dynamic"] or len(kinds["static"]) != len(LAYERS):
        pytest.fail(f"{what}: {len(kinds['static'])} of the {len(LAYERS)} conv/linear layers "
                    f"are static int8 modules; still float: {', '.join(kinds['float']) or '—'}"
                    f"; dynamic: {', '.join(kinds['dynamic']) or '—'}. "
                    + ("Did you call convert? A prepared model only simulates int8 "
                       "(fake quantisation); convert swaps in the int8 modules"
                       if kinds["float"] else "Static quantisation needs QuantStub/DeQuantStub, "
                       "a qconfig on the whole model, prepare and convert"), pytrace=False)
    with torch.inference_mode():
        out = model(torch.rand(5, 1, 8, 8))
    if not (isinstance(out, torch.Tensor) and not out.is_quantized
            and out.dtype == torch.float32 and out.shape == (5, 10)):
        pytest.fail(f"{what}: the int8 model must return float32 logits (N, 10): end it with "
                    "a DeQuantStub", pytrace=False)
    return model


def _per_channel(qscheme) -> bool:
    return qscheme in (torch.per_channel_affine, torch.per_channel_symmetric,
                       torch.per_channel_affine_float_qparams)


def check_engine_qconfig(model, what: str):
    engine = torch.backends.quantized.engine
    want = _per_channel(tq.get_default_qconfig(engine).weight().qscheme)
    for name, m in model.named_modules():
        if isinstance(m, nnq.Conv2d | nnq.Linear):
            assert m.weight().dtype == torch.qint8, f"{what}: {name} weights are not qint8"
            got = _per_channel(m.weight().qscheme())
            assert got == want, (
                f"{what}: {name} weights are quantised {'per channel' if got else 'per tensor'}"
                f", but the default qconfig of this machine's engine ({engine!r}) quantises them "
                f"{'per channel' if want else 'per tensor'}: use the engine's qconfig "
                "(get_default_qconfig / get_default_qat_qconfig(torch.backends.quantized.engine))")


# ---- PTQ -------------------------------------------------------------------------------


def test_ptq_leaves_the_fp32_model_alone(ptq_result):
    assert ptq_result[1], ("ptq modified the fp32 model it was given (weights, modules or "
                           "mode): fuse and prepare a copy.deepcopy of it")


def test_ptq_keeps_the_callers_mode(solution, fp32, data):
    # the study's model is in eval mode, where model.eval() changes nothing: hand ptq one in
    # training mode (a copy, 64 calibration images: cheap) and it must stay so
    training = copy.deepcopy(fp32).train()
    solution.ptq(training, data.x_train[:64].clone())
    assert all(m.training for m in training.modules()), (
        "ptq switched the model it was given out of training mode (model.eval() on the "
        "caller's model): set the mode of your copy, not of the caller's model")


def test_ptq_is_static_int8_with_the_engine_qconfig(ptq_result):
    check_engine_qconfig(int8_model(ptq_result, "ptq"), "ptq")


def grader_ptq(model, calibration):
    m = copy.deepcopy(model).eval()
    tq.fuse_modules(m, FUSE, inplace=True)
    w = nn.Sequential(tq.QuantStub(), m, tq.DeQuantStub()).eval()
    w.qconfig = tq.get_default_qconfig(torch.backends.quantized.engine)
    p = tq.prepare(w)
    with torch.no_grad():
        for i in range(0, len(calibration), 64):
            p(calibration[i:i + 64])
    return tq.convert(p)


@pytest.fixture(scope="module")
def counts(fp32, ptq_result, qat_result, data) -> dict[str, int]:
    """Correct test predictions (of 450) of the three models, by the grader."""
    return {"fp32": correct(fp32, data), "ptq": correct(ptq_result[0], data),
            "qat": correct(qat_result[0], data)}


def output_scales(model) -> list[float]:
    """The output scale of each int8 conv/linear layer, in forward order."""
    return [float(m.scale) for m in model.modules() if isinstance(m, nnq.Conv2d | nnq.Linear)]


def test_ptq_matches_the_graders_ptq(ptq_result, fp32, data, counts, record_metric):
    model = int8_model(ptq_result, "ptq")
    n = len(data.y_test)
    reference = grader_ptq(fp32, data.x_train[:CALIBRATION])
    for layer, got, want in zip(LAYERS, output_scales(model), output_scales(reference),
                                strict=True):
        assert want / SCALE_FACTOR <= got <= want * SCALE_FACTOR, (
            f"ptq: {layer}'s output scale is {got:.4g}, the grader's PTQ of the same model "
            f"(the same 256 calibration images) gives {want:.4g} — more than {SCALE_FACTOR}× "
            "apart. Were the observers calibrated (the calibration images run through the "
            "prepared model before convert)? Uncalibrated observers leave scale 1.0")
    mine = correct(reference, data)
    record_metric("ptq accuracy", 100 * counts["ptq"] / n, unit="%")
    record_metric("grader's ptq accuracy", 100 * mine / n, unit="%")
    gap = 100 * abs(counts["ptq"] - mine) / n
    assert gap <= PTQ_TOLERANCE_PT, (
        f"your PTQ model scores {100 * counts['ptq'] / n:.2f} %, the grader's PTQ of the same "
        f"model (engine qconfig, the same 256 calibration images) {100 * mine / n:.2f} %: more "
        f"than {PTQ_TOLERANCE_PT} points apart. Were the observers calibrated — the "
        "calibration images run through the prepared model before convert?")


# ---- QAT -------------------------------------------------------------------------------


def test_qat_leaves_the_fp32_model_alone(qat_result):
    assert qat_result[1], ("qat modified the fp32 model it was given (weights, modules or "
                           "mode): fine-tune a copy.deepcopy of it")


def test_qat_is_static_int8_with_the_engine_qconfig(qat_result):
    check_engine_qconfig(int8_model(qat_result, "qat"), "qat")


def test_qat_recovers_the_accuracy(qat_result, data, counts, record_metric):
    int8_model(qat_result, "qat")
    n = len(data.y_test)
    drop = 100 * (counts["fp32"] - counts["qat"]) / n
    record_metric("fp32 accuracy", 100 * counts["fp32"] / n, unit="%")
    record_metric("qat accuracy", 100 * counts["qat"] / n, unit="%",
                  target=f"drop <= {QAT_MAX_DROP_PT} pt",
                  verdict="PASS" if drop <= QAT_MAX_DROP_PT else "FAIL")
    ptq_drop = 100 * (counts["fp32"] - counts["ptq"]) / n
    assert drop <= QAT_MAX_DROP_PT, (
        f"the QAT model scores {100 * counts['qat'] / n:.2f} %, {drop:.2f} points below fp32 "
        f"(allowed {QAT_MAX_DROP_PT}; PTQ here drops {ptq_drop:.2f}). QAT trains *through* the "
        "rounding: prepare_qat with the engine's QAT qconfig (fake quantisation in the forward "
        "pass), fine-tune, then convert — training in float and quantising afterwards is PTQ")


def weights_of(model) -> list[torch.Tensor]:
    """The conv/linear weights in forward order (dequantised where int8)."""
    out = []
    for m in model.modules():
        if isinstance(m, nnq.Conv2d | nnq.Linear):
            out.append(m.weight().dequantize())
        elif isinstance(m, nn.Conv2d | nn.Linear):
            out.append(m.weight.detach().clone())
    return out


def test_qat_is_seeded(solution, fp32, data):
    # a short run on 192 images (3 steps): cheap, and enough for the seed to show
    x, y = data.x_train[:192], data.y_train[:192]
    runs = [weights_of(solution.qat(fp32, x.clone(), y.clone(), epochs=1, lr=1e-3, seed=seed))
            for seed in (1, 1, 2)]
    assert len(runs[0]) == len(LAYERS), (
        f"qat returned a model with {len(runs[0])} conv/linear layers, expected {len(LAYERS)}")
    same = all(torch.equal(a, b) for a, b in zip(runs[0], runs[1], strict=True))
    assert same, ("qat with the same seed gave different weights: shuffle with the seed "
                  "(graders.data.digits_cnn.train(..., seed=seed) does)")
    differ = any(not torch.equal(a, b) for a, b in zip(runs[0], runs[2], strict=True))
    assert differ, ("qat with seeds 1 and 2 gave identical weights: the seed is not used "
                    "(pass seed=seed on to train)")


# ---- the table -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def table(solution, fp32, ptq_result, qat_result, data):
    models = {"fp32": fp32, "ptq": ptq_result[0], "qat": qat_result[0]}
    models = {m: models[m] for m in ORDER}
    torch.set_num_threads(1)
    rows = solution.measure(models, data.x_test.clone(), data.y_test.clone(),
                            data.x_test[:BENCH_BATCH].clone())
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    return rows, threads


def rows_of(table) -> dict[str, dict]:
    table = table[0]  # (rows, torch's thread count after measure)
    keys = {"method", "accuracy_pt", "size_bytes", "latency_ms"}
    if not (isinstance(table, list) and len(table) == 3
            and all(isinstance(r, dict) and set(r) == keys for r in table)):
        pytest.fail(f"measure returns a list of 3 rows, each a dict with exactly the keys "
                    f"{sorted(keys)}; got {table!r}"[:600], pytrace=False)
    methods = [r["method"] for r in table]
    if methods != list(ORDER):
        pytest.fail(f"the rows' methods are {methods}: one row per model, in the order of the "
                    f"dict measure was given ({list(ORDER)})", pytrace=False)
    return {r["method"]: r for r in table}


def test_table_accuracy_and_size_are_the_graders(table, fp32, ptq_result, qat_result, data,
                                                  counts):
    rows = rows_of(table)
    n = len(data.y_test)
    models = {"fp32": fp32, "ptq": ptq_result[0], "qat": qat_result[0]}
    for method in METHODS:
        expect.close(rows[method]["accuracy_pt"], 100 * counts[method] / n,
                     what=f"accuracy_pt of {method} (percent of the 450 test images)",
                     rtol=1e-9, atol=1e-9, oracle="the grader's count of correct predictions")
        want = size_bytes(models[method])
        got = rows[method]["size_bytes"]
        assert isinstance(got, int) and got == want, (
            f"size_bytes of {method} is {got!r}, the grader's size_bytes (bytes of "
            f"torch.save(model.state_dict())) gives {want}")


@pytest.fixture(scope="module")
def grader_ms(fp32, ptq_result, qat_result, data) -> dict[str, float]:
    """The grader's median CPU time (ms) of one forward pass of 64 images, per model."""
    x = data.x_test[:BENCH_BATCH]
    models = {"fp32": fp32, "ptq": ptq_result[0], "qat": qat_result[0]}
    torch.set_num_threads(1)
    with torch.inference_mode():
        return {k: harness.measure(m, x, timer=time.thread_time, max_time_s=0.5, memory=False,
                                   rel_iqr_max=0.5).median_s * 1e3 for k, m in models.items()}


def latency_ratio(rows, ms) -> float:
    return statistics.median(rows[m]["latency_ms"] / ms[m] for m in METHODS)


def test_table_latencies_are_the_graders(table, grader_ms, fp32, ptq_result, qat_result, data,
                                         record_metric):
    rows = rows_of(table)
    assert table[1] == 1, (f"measure left torch on {table[1]} threads; the grader set one "
                           "(torch.set_num_threads(1)) and compares one-thread latencies")
    for m in METHODS:
        record_metric(f"{m} latency (grader)", grader_ms[m], unit="ms")
    typical = latency_ratio(rows, grader_ms)
    lo, hi = LATENCY_BAND
    if lo <= typical <= hi:
        return
    again = dict(grader_ms)  # a second measurement: is the machine steady?
    x = data.x_test[:BENCH_BATCH]
    with torch.inference_mode():
        for k, m in {"fp32": fp32, "ptq": ptq_result[0], "qat": qat_result[0]}.items():
            again[k] = harness.measure(m, x, timer=time.thread_time, max_time_s=0.5,
                                       memory=False, rel_iqr_max=0.5).median_s * 1e3
    drift = statistics.median(grader_ms[m] / again[m] for m in METHODS)
    if not 1 / DRIFT_MAX <= drift <= DRIFT_MAX or lo <= latency_ratio(rows, again) <= hi:
        raise requires.Inconclusive(
            f"your latencies are typically {typical:.3g}× the grader's first measurement and "
            f"{latency_ratio(rows, again):.3g}× its second, which are {drift:.3g}× apart: the "
            "machine is too busy to compare latencies")
    table_text = ", ".join(f"{m}: {rows[m]['latency_ms']:.4g} vs {grader_ms[m]:.4g}"
                           for m in METHODS)
    pytest.fail(f"your latencies are typically {typical:.3g}× the grader's (allowed "
                f"{lo:.2g}–{hi:.2g}×;"
                f" ms, yours vs the grader's: {table_text}): the median time of one forward "
                "pass of the 64 bench images, in milliseconds, one thread", pytrace=False)


# ---- the conclusions ---------------------------------------------------------------------


def hand_rows(acc, size, ms, order=METHODS):
    """Rows of the three methods (values given in the order fp32, ptq, qat), listed in
    `order`: conclude must find each method by name."""
    rows = {m: {"method": m, "accuracy_pt": a, "size_bytes": s, "latency_ms": t}
            for m, a, s, t in zip(METHODS, acc, size, ms, strict=True)}
    return [rows[m] for m in order]


CONCLUDE_CASES = [
    (hand_rows((95.0, 90.0, 94.0), (1000, 300, 300), (2.0, 1.0, 0.8)),
     {"more_accurate": "qat", "accuracy_gain_pt": 4.0, "ptq_drop_pt": 5.0, "qat_drop_pt": 1.0,
      "ptq_size_ratio": 0.3, "qat_size_ratio": 0.3, "ptq_speedup": 2.0, "qat_speedup": 2.5}),
    # a quarter of a point is a difference: "tie" only when exactly equal
    (hand_rows((95.0, 94.5, 94.25), (1000, 250, 400), (2.0, 4.0, 1.0), ("qat", "fp32", "ptq")),
     {"more_accurate": "ptq", "accuracy_gain_pt": -0.25, "ptq_drop_pt": 0.5, "qat_drop_pt": 0.75,
      "ptq_size_ratio": 0.25, "qat_size_ratio": 0.4, "ptq_speedup": 0.5, "qat_speedup": 2.0}),
    (hand_rows((95.0, 93.0, 93.0), (1000, 300, 300), (2.0, 1.0, 1.0), ("ptq", "qat", "fp32")),
     {"more_accurate": "tie", "accuracy_gain_pt": 0.0, "ptq_drop_pt": 2.0, "qat_drop_pt": 2.0,
      "ptq_size_ratio": 0.3, "qat_size_ratio": 0.3, "ptq_speedup": 2.0, "qat_speedup": 2.0}),
]
KEYS = ("engine", "more_accurate", "accuracy_gain_pt", "ptq_drop_pt", "qat_drop_pt",
        "ptq_size_ratio", "qat_size_ratio", "ptq_speedup", "qat_speedup")


def conclusions_of(solution, rows) -> dict:
    frozen = copy.deepcopy(rows)
    got = solution.conclude(rows)
    if rows != frozen:
        pytest.fail("conclude modified the rows it was given", pytrace=False)
    if not (isinstance(got, dict) and set(got) == set(KEYS)):
        pytest.fail(f"conclude returns a dict with exactly the keys {list(KEYS)}; got "
                    f"{sorted(got) if isinstance(got, dict) else got!r}", pytrace=False)
    return got


def check_conclusions(got: dict, want: dict, source: str):
    for key, value in want.items():
        if isinstance(value, str):
            assert got[key] == value, (f"conclusion {key!r} is {got[key]!r}, but {source} "
                                       f"say {value!r}")
        else:
            expect.close(got[key], value, what=f"conclusion {key!r}", rtol=1e-6, atol=1e-9,
                         oracle=source)


@pytest.mark.parametrize("rows,want", CONCLUDE_CASES, ids=["qat-wins", "ptq-wins", "tie"])
def test_conclude_reads_the_table(solution, rows, want):
    got = conclusions_of(solution, rows)
    assert got["engine"] == torch.backends.quantized.engine, (
        f"conclusion 'engine' is {got['engine']!r}; PyTorch runs int8 here on "
        f"{torch.backends.quantized.engine!r} (torch.backends.quantized.engine)")
    check_conclusions(got, want, "the numbers of the table")


def test_conclusions_agree_with_the_graders_numbers(solution, table, counts, grader_ms, fp32,
                                                    ptq_result, qat_result, data,
                                                    record_metric):
    rows = rows_of(table)
    got = conclusions_of(solution, table[0])
    n = len(data.y_test)
    acc = {m: 100 * counts[m] / n for m in METHODS}
    size = {"fp32": size_bytes(fp32), "ptq": size_bytes(ptq_result[0]),
            "qat": size_bytes(qat_result[0])}
    gain = acc["qat"] - acc["ptq"]
    for key in ("accuracy_gain_pt", "ptq_size_ratio", "ptq_speedup"):
        if isinstance(got[key], int | float):
            record_metric(key, got[key])
    check_conclusions(got, {
        "engine": torch.backends.quantized.engine,
        "more_accurate": "qat" if counts["qat"] > counts["ptq"] else
        "ptq" if counts["qat"] < counts["ptq"] else "tie",
        "accuracy_gain_pt": gain,
        "ptq_drop_pt": acc["fp32"] - acc["ptq"], "qat_drop_pt": acc["fp32"] - acc["qat"],
        "ptq_size_ratio": size["ptq"] / size["fp32"], "qat_size_ratio": size["qat"] / size["fp32"],
        # the speed-ups are the table's own (its latencies were checked against the grader's)
        "ptq_speedup": rows["fp32"]["latency_ms"] / rows["ptq"]["latency_ms"],
        "qat_speedup": rows["fp32"]["latency_ms"] / rows["qat"]["latency_ms"],
    }, "the grader's re-measured numbers")
    for m in ("ptq", "qat"):
        record_metric(f"{m} speed-up over fp32 (grader)", grader_ms["fp32"] / grader_ms[m],
                      unit="x")

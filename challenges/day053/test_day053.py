"""Day 53 grader: post-training static quantisation of the digits CNN. The grader trains the
fp32 model itself, quantises it with the learner's function, and measures in the same run:
the accuracy drop on the test split, the size ratio of the saved state dicts, and the CPU
speed-up of int8 over fp32 (interleaved rounds, one thread, thread CPU time)."""

import time
import warnings

import pytest
import torch
import torch._dynamo  # noqa: F401  (FX quantisation imports it and it wraps torch.manual_seed:
from torch import nn  # imported before the grade, so the module guard does not blame the solution)
from torch.ao.nn import quantized as nnq
from torch.ao.nn.quantized import dynamic as nnqd

from graders.data.digits_cnn import accuracy, load_digits_images, size_bytes, trained_cnn

torch.set_num_threads(1)  # one thread: a fair single-core comparison, steady on a busy machine
warnings.filterwarnings("ignore", category=UserWarning)  # torch.ao's deprecation notes
warnings.filterwarnings("ignore", category=DeprecationWarning)
# torch's warnings record themselves in the module that triggered them: exist from the start,
# so that recording is not mistaken for a change to the grader
__warningregistry__: dict = {}

BATCH = 64  # the benchmark batch: conv-heavy enough for int8 kernels to pay off
LAYERS = ("conv1", "conv2", "fc1", "fc2")


@pytest.fixture(scope="module")
def data():
    return load_digits_images()


@pytest.fixture(scope="module")
def fp32(data):
    return trained_cnn()


@pytest.fixture(scope="module")
def result(solution, fp32, data):
    """(int8 model, problem or ''); the original is checked for changes."""
    before = {k: v.clone() for k, v in fp32.state_dict().items()}
    types = {n: type(m) for n, m in fp32.named_modules()}
    int8 = solution.quantize_static(fp32, data.x_train[:256].clone())
    after = fp32.state_dict()
    changed = (set(before) != set(after) or any(not torch.equal(before[k], after[k])
                                                for k in before)
               or types != {n: type(m) for n, m in fp32.named_modules()})
    return int8, changed


def layer_kinds(model: nn.Module) -> dict[str, list[str]]:
    kinds = {"static": [], "dynamic": [], "float": []}
    for name, m in model.named_modules():
        if isinstance(m, nnqd.Linear):
            kinds["dynamic"].append(name)
        elif isinstance(m, nnq.Conv2d | nnq.Linear):
            kinds["static"].append(name)
        elif isinstance(m, nn.Conv2d | nn.Linear):
            kinds["float"].append(name)
    return kinds


def require_int8(result):
    int8, _ = result
    kinds = layer_kinds(int8)
    if kinds["dynamic"]:
        pytest.fail(f"{len(kinds['dynamic'])} layer(s) are dynamically quantised "
                    f"({', '.join(kinds['dynamic'])}): dynamic quantisation (quantize_dynamic) "
                    "keeps activations in float and leaves convolutions alone; static "
                    "quantisation needs observers, calibration and convert", pytrace=False)
    if kinds["float"] or len(kinds["static"]) != len(LAYERS):
        pytest.fail(f"{len(kinds['static'])} of the {len(LAYERS)} conv/linear layers are int8; "
                    f"still float: {', '.join(kinds['float']) or '—'}. Every layer must be "
                    "quantised (the qconfig on the whole model, QuantStub at the input, "
                    "DeQuantStub at the output)", pytrace=False)
    return int8


def test_the_fp32_model_is_left_alone(result):
    _, changed = result
    assert not changed, (
        "quantize_static modified the fp32 model it was given (weights or modules): work on "
        "copy.deepcopy(model) — prepare/convert and fuse_modules rewrite modules in place")


def test_every_layer_is_static_int8(result):
    int8 = require_int8(result)
    for name, m in int8.named_modules():
        if isinstance(m, nnq.Conv2d | nnq.Linear):
            assert m.weight().dtype == torch.qint8, f"{name}: weights are not qint8"


def _per_channel(qscheme) -> bool:
    return qscheme in (torch.per_channel_affine, torch.per_channel_symmetric,
                       torch.per_channel_affine_float_qparams)


def test_the_engine_qconfig_is_used(result):
    int8 = require_int8(result)
    engine = torch.backends.quantized.engine
    weight_observer = torch.ao.quantization.get_default_qconfig(engine).weight()
    want = _per_channel(weight_observer.qscheme)
    for name, m in int8.named_modules():
        if isinstance(m, nnq.Conv2d | nnq.Linear):
            got = _per_channel(m.weight().qscheme())
            assert got == want, (
                f"{name}: weights are quantised {'per channel' if got else 'per tensor'}, but "
                f"the default qconfig of this machine's engine ({engine!r}) quantises them "
                f"{'per channel' if want else 'per tensor'}: use "
                "get_default_qconfig(torch.backends.quantized.engine)")


CALIB_SCALE_RTOL = 0.10  # every image, in any batching or order: within 2 %; one image: -44 %


def test_calibrated_on_every_image(result, fp32, data):
    """The logits' int8 scale comes from fc2's output observer; the grader runs the same
    observer (the engine's default qconfig) over the fp32 logits of all 256 calibration
    images. fc2 has no ReLU, so the scale is the same whatever was fused."""
    int8 = require_int8(result)
    fc2 = [m for name, m in int8.named_modules()
           if name.split(".")[-1] == "fc2" and isinstance(m, nnq.Linear)]
    if len(fc2) != 1:
        pytest.fail("the int8 model has no int8 Linear named fc2 (the logits' layer keeps its "
                    "name in eager and FX mode)", pytrace=False)
    observer = torch.ao.quantization.get_default_qconfig(
        torch.backends.quantized.engine).activation()
    with torch.no_grad():
        observer(fp32(data.x_train[:256]))
    want, got = float(observer.calculate_qparams()[0]), float(fc2[0].scale)
    assert abs(got / want - 1) <= CALIB_SCALE_RTOL, (
        f"the logits' int8 scale is {got:.4g}; calibrated on all 256 calibration images it is "
        f"{want:.4g} (±{CALIB_SCALE_RTOL:.0%}): run every calibration image through the "
        "prepared model before convert, not just a few")


def usable(result, data):
    """The returned model, once it is known to map float images to float logits (the size,
    accuracy and speed checks measure whatever was returned, quantised or not)."""
    int8, _ = result
    with torch.no_grad():
        out = int8(data.x_test[:5])
    if not (isinstance(out, torch.Tensor) and not out.is_quantized
            and out.dtype == torch.float32):
        pytest.fail("the quantised model must return float32 logits: end it with a "
                    "DeQuantStub", pytrace=False)
    if out.shape != (5, 10):
        pytest.fail(f"logits of 5 images have shape {tuple(out.shape)}, not (5, 10)",
                    pytrace=False)
    return int8


def test_int8_model_takes_and_returns_floats(result, data):
    usable(result, data)


def test_accuracy_drop(result, fp32, data, bench, record_metric):
    int8 = usable(result, data)
    base = accuracy(fp32, data.x_test, data.y_test)
    got = accuracy(int8, data.x_test, data.y_test)
    record_metric("fp32_accuracy", base * 100, unit="%")
    record_metric("int8_accuracy", got * 100, unit="%")
    drop = (base - got) * 100
    if drop > 5:
        pytest.fail(f"int8 accuracy {got:.1%} vs fp32 {base:.1%}: a drop of {drop:.1f} points. "
                    "Were the observers calibrated (calibration images run through the "
                    "prepared model before convert)? Uncalibrated observers give scale 1.0",
                    pytrace=False)
    bench.check_value("accuracy_drop", drop, name="accuracy drop (points)")


def test_size_ratio(result, fp32, data, bench, record_metric):
    int8 = usable(result, data)
    a, b = size_bytes(fp32), size_bytes(int8)
    record_metric("fp32_size", a / 1024, unit="KiB")
    record_metric("int8_size", b / 1024, unit="KiB")
    bench.check_value("size_ratio", b / a, name="size ratio int8/fp32 (state_dict bytes)")


def test_speedup_over_fp32(result, fp32, data, bench):
    int8 = usable(result, data)
    x = data.x_test[:BATCH]
    torch.set_num_threads(1)
    with torch.inference_mode():
        # thread CPU time: on a shared machine, time other processes take is not counted
        c = bench.compare(fp32, int8, x, name=f"int8 vs fp32, batch {BATCH}",
                          timer=time.thread_time, max_time_s=2.0)
        m = bench.measure(int8, x, name=f"int8 forward, batch {BATCH}", timer=time.thread_time,
                          max_time_s=1.0, memory=False, rel_iqr_max=0.5)
    assert torch.get_num_threads() == 1, "the model changed torch's thread count"
    bench.check(c, "int8_speedup")
    bench.check(m, "int8_latency")

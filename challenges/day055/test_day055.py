"""Day 55 grader: quantisation-aware training against post-training quantisation at 2-bit
weights and 3-bit activations, on the digits CNN. Fake-quant modules and their ranges are
inspected, the weights' effective levels counted, fake quantisation is watched while the
learner trains, and test accuracies are compared with the grader's own PTQ baseline."""

import copy
import warnings

import pytest
import torch
import torch._dynamo  # noqa: F401  (torch.optim imports it and it wraps torch.manual_seed:
import torch.ao.quantization as tq  # imported before the grade, so the guard does not blame
from torch import nn  # the solution)

from graders.data.digits_cnn import accuracy, load_digits_images, trained_cnn

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=UserWarning)  # torch.ao's deprecation notes
warnings.filterwarnings("ignore", category=DeprecationWarning)
__warningregistry__: dict = {}  # torch's warnings record themselves here (see day 53)

W_BITS, A_BITS = 2, 3
MIN_GAIN_PT = 1.0  # QAT must beat the same model calibrated only (PTQ) by this many points
FUSE = [["conv1", "relu1"], ["conv2", "relu2"], ["fc1", "relu3"]]


def w_range(bits):
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def a_range(bits):
    return 0, 2 ** bits - 1


@pytest.fixture(scope="module")
def data():
    return load_digits_images()


@pytest.fixture(scope="module")
def fp32():
    return trained_cnn()


def grader_ptq(model, x):
    """The baseline: fused layers, min/max observers calibrated on x, then frozen — written
    independently of the learner's code."""
    m = copy.deepcopy(model).train()
    tq.fuse_modules_qat(m, FUSE, inplace=True)
    q = nn.Sequential(tq.QuantStub(), m, tq.DeQuantStub())
    lo, hi = w_range(W_BITS)
    q.qconfig = tq.QConfig(
        activation=tq.FakeQuantize.with_args(observer=tq.MinMaxObserver, quant_min=0,
                                             quant_max=2 ** A_BITS - 1, dtype=torch.quint8),
        weight=tq.FakeQuantize.with_args(observer=tq.PerChannelMinMaxObserver, quant_min=lo,
                                         quant_max=hi, dtype=torch.qint8, ch_axis=0,
                                         qscheme=torch.per_channel_symmetric))
    tq.prepare_qat(q, inplace=True)
    q.apply(tq.disable_fake_quant)
    with torch.no_grad():
        q(x)
    q.apply(tq.enable_fake_quant)
    q.apply(tq.disable_observer)
    return q.eval()


@pytest.fixture(scope="module")
def baseline(fp32, data):
    return {"fp32": accuracy(fp32, data.x_test, data.y_test),
            "ptq": accuracy(grader_ptq(fp32, data.x_train[:512]), data.x_test, data.y_test)}


class FakeQuantWatch:
    """Counts forward passes through enabled fake-quant modules in training mode."""

    def __init__(self):
        self.count = 0

    def __call__(self, module, args, output):
        if (isinstance(module, tq.FakeQuantizeBase) and module.training
                and int(module.fake_quant_enabled[0]) == 1):
            self.count += 1


@pytest.fixture(scope="module")
def learned(solution, fp32, data):
    before = {k: v.clone() for k, v in fp32.state_dict().items()}
    watch = FakeQuantWatch()
    handle = torch.nn.modules.module.register_module_forward_hook(watch)
    try:
        model = solution.qat(fp32, data.x_train, data.y_train, weight_bits=W_BITS,
                             act_bits=A_BITS, epochs=2, lr=1e-3, seed=0)
    finally:
        handle.remove()
    ptq_model = solution.ptq(fp32, data.x_train[:512], weight_bits=W_BITS, act_bits=A_BITS)
    after = fp32.state_dict()
    changed = set(before) != set(after) or any(not torch.equal(before[k], after[k])
                                               for k in before)
    return {"qat": model, "ptq": ptq_model, "watched": watch.count, "changed": changed}


def fake_quants(model):
    weights, acts = [], []
    owners = {}
    for name, m in model.named_modules():
        fq = getattr(m, "weight_fake_quant", None)
        if isinstance(fq, tq.FakeQuantizeBase):
            weights.append((name, m, fq))
            owners[id(fq)] = name
    for name, m in model.named_modules():
        if isinstance(m, tq.FakeQuantizeBase) and id(m) not in owners:
            acts.append((name, m))
    return weights, acts


def check_structure(model, what):
    weights, acts = fake_quants(model)
    assert len(weights) == 4, (
        f"{what}: {len(weights)} of the 4 conv/linear layers carry a weight fake-quant "
        "(a QAT module with `weight_fake_quant`): put the qconfig on the whole model and use "
        "prepare_qat")
    lo, hi = w_range(W_BITS)
    for name, _, fq in weights:
        assert (fq.quant_min, fq.quant_max) == (lo, hi), (
            f"{what}: {name}'s weight fake-quant covers {fq.quant_min}..{fq.quant_max}; "
            f"{W_BITS}-bit weights are {lo}..{hi}")
    assert len(acts) >= 4, (
        f"{what}: only {len(acts)} activation fake-quant module(s); the input and every "
        "layer's output must be fake-quantised (QuantStub + qconfig on the model)")
    alo, ahi = a_range(A_BITS)
    for name, fq in acts:
        assert (fq.quant_min, fq.quant_max) == (alo, ahi), (
            f"{what}: activation fake-quant {name} covers {fq.quant_min}..{fq.quant_max}; "
            f"{A_BITS}-bit activations are {alo}..{ahi}")
    every = [fq for _, _, fq in weights] + [fq for _, fq in acts]
    assert all(int(fq.fake_quant_enabled[0]) == 1 for fq in every), (
        f"{what}: some fake-quant modules are disabled: the model must run quantised")
    assert all(int(fq.observer_enabled[0]) == 0 for fq in every), (
        f"{what}: observers are still enabled, so every evaluation batch keeps moving the "
        "quantisation ranges: freeze them (model.apply(torch.ao.quantization.disable_observer))")
    assert not model.training, f"{what}: return the model in eval mode"
    return weights


@pytest.mark.parametrize("wb,ab", [(8, 8), (4, 4), (2, 3)])
def test_qconfig_ranges(solution, wb, ab):
    qc = solution.fake_quant_qconfig(wb, ab)
    w, a = qc.weight(), qc.activation()
    assert isinstance(w, tq.FakeQuantizeBase) and isinstance(a, tq.FakeQuantizeBase), (
        "both halves of the qconfig must make FakeQuantize modules (fake-quant observers)")
    assert (w.quant_min, w.quant_max) == w_range(wb), (
        f"weights at {wb} bits: range {w.quant_min}..{w.quant_max}, expected "
        f"{w_range(wb)[0]}..{w_range(wb)[1]}")
    assert (a.quant_min, a.quant_max) == a_range(ab), (
        f"activations at {ab} bits: range {a.quant_min}..{a.quant_max}, expected "
        f"0..{a_range(ab)[1]}")
    assert w.qscheme == torch.per_channel_symmetric and w.ch_axis == 0, (
        "weights: per-channel symmetric on axis 0 (output channels)")
    assert a.qscheme == torch.per_tensor_affine, "activations: per-tensor affine"


def test_the_fp32_model_is_left_alone(learned):
    assert not learned["changed"], (
        "ptq/qat modified the fp32 model they were given: work on copy.deepcopy(model)")


@pytest.mark.parametrize("which", ["ptq", "qat"])
def test_fake_quant_observers_are_in_place(learned, which):
    check_structure(learned[which], f"the {which} model")


@pytest.mark.parametrize("which", ["ptq", "qat"])
def test_weights_take_at_most_2_to_the_bits_values(learned, which):
    weights = check_structure(learned[which], f"the {which} model")
    with torch.no_grad():
        for name, module, fq in weights:
            try:
                wq = fq(module.weight.detach())
            except RuntimeError as exc:
                pytest.fail(f"the {which} model's {name} weight fake-quant cannot run "
                            f"({str(exc)[:100]}): did its observer ever see the weights? "
                            "(calibrate before freezing)", pytrace=False)
            levels = max(torch.unique(row).numel() for row in wq.flatten(1))
            assert levels <= 2 ** W_BITS, (
                f"the {which} model's {name} weights take {levels} distinct values in one "
                f"output channel; {W_BITS}-bit weights allow {2 ** W_BITS}")


def test_training_runs_through_fake_quantisation(learned):
    assert learned["watched"] >= 50, (
        f"while qat() trained, enabled fake-quant modules ran {learned['watched']} time(s) "
        "in training mode: quantisation-aware training keeps fake quantisation on during "
        "training (fine-tuning in float and quantising afterwards is just PTQ)")


def test_qat_uses_its_seed(solution, fp32, data):
    x, y = data.x_train[:128], data.y_train[:128]  # a short run: the point is the seed

    def weights(seed):
        q = solution.qat(fp32, x.clone(), y.clone(), weight_bits=W_BITS, act_bits=A_BITS,
                         epochs=1, lr=1e-3, seed=seed)
        return [t.detach().clone() for t in q.state_dict().values() if t.is_floating_point()]

    first, again, other = weights(0), weights(0), weights(1)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True)), (
        "qat(..., seed=0) gave different weights in two runs: shuffle with the seed, as "
        "graders.data.digits_cnn.train(..., seed=seed) does")
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True)), (
        "qat gave the same weights for seeds 0 and 1: pass the seed on to the training "
        "(train(q, x, y, epochs=epochs, lr=lr, seed=seed))")


def score(model, data, which):
    """Test accuracy of a learner's model; a model that cannot run fails with the reason."""
    try:
        return accuracy(model, data.x_test, data.y_test)
    except Exception as exc:  # the learner's model: any error becomes one clear message
        hint = (" — a min/max observer that never saw data has no usable scales: run the "
                "calibration images through the model before freezing it"
                if which == "ptq" else "")
        pytest.fail(f"the {which} model fails on the test images ({type(exc).__name__}: "
                    f"{str(exc)[:120]}){hint}", pytrace=False)


def test_ptq_is_calibrated(learned, baseline, data, record_metric):
    got = score(learned["ptq"], data, "ptq")
    record_metric("fp32_accuracy", baseline["fp32"] * 100, unit="%")
    record_metric("ptq_accuracy (grader's baseline)", baseline["ptq"] * 100, unit="%")
    record_metric("ptq_accuracy (yours)", got * 100, unit="%")
    assert got >= baseline["ptq"] - 0.03, (
        f"your PTQ model scores {got:.1%}; min/max observers calibrated on the same 512 "
        f"images give {baseline['ptq']:.1%}: run the calibration images through the model "
        "(observers on) before freezing it")


def test_qat_beats_ptq(learned, baseline, data, bench, record_metric):
    assert baseline["fp32"] - baseline["ptq"] >= 0.03, (
        "grader premise broken: PTQ at W2A3 should lose ≥ 3 points here "
        f"(fp32 {baseline['fp32']:.1%}, PTQ {baseline['ptq']:.1%})")
    got = score(learned["qat"], data, "qat")
    record_metric("qat_accuracy", got * 100, unit="%")
    bench.check_value("qat_accuracy_drop", (baseline["fp32"] - got) * 100,
                      name="QAT accuracy drop vs fp32 (points)")
    ptq = score(learned["ptq"], data, "ptq")
    gain = (got - ptq) * 100
    record_metric("qat_gain_over_your_ptq", gain, unit="pt", target=f">= {MIN_GAIN_PT:g} pt",
                  verdict="PASS" if gain >= MIN_GAIN_PT else "FAIL")
    assert gain >= MIN_GAIN_PT, (
        f"QAT reaches {got:.1%}, your PTQ of the same model {ptq:.1%}: a gain of {gain:.1f} "
        f"points; the spec asks for ≥ {MIN_GAIN_PT:g}")

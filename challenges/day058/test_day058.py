"""Day 58 grader (capstone 1): the learner's pipeline turns the grader's fp32 teacher into a
pruned, distilled, int8 network. Each stage is inspected (smaller shapes, the teacher
consulted, int8 weights made from the distilled ones) and measured in the same run: size,
accuracy and CPU time of every stage, with the final model held to speed-up, size, accuracy
and latency targets against the teacher."""

import time
import warnings

import pytest
import torch
import torch._dynamo  # noqa: F401  (torch.optim/FX import it and it wraps torch.manual_seed:
from torch import nn  # imported before the grade, so the module guard does not blame the solution)
from torch.ao.nn import quantized as nnq
from torch.ao.nn.quantized import dynamic as nnqd

from graders.data.digits_cnn import accuracy, load_digits_images, size_bytes, trained_cnn

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=UserWarning)  # torch.ao's deprecation notes
warnings.filterwarnings("ignore", category=DeprecationWarning)
__warningregistry__: dict = {}  # torch's warnings record themselves here (see day 53)

BATCH = 256
LAYERS = ("conv1", "conv2", "fc1", "fc2")


@pytest.fixture(scope="module")
def data():
    return load_digits_images()


@pytest.fixture(scope="module")
def teacher():
    return trained_cnn()


@pytest.fixture(scope="module")
def stages(solution, teacher, data):
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    calls = {"n": 0}
    hook = teacher.register_forward_hook(lambda m, a, o: calls.__setitem__("n", calls["n"] + 1))
    try:
        out = solution.optimize(teacher, data.x_train.clone(), data.y_train.clone())
    finally:
        hook.remove()
    after = teacher.state_dict()
    changed = any(not torch.equal(before[k], after[k]) for k in before)
    assert isinstance(out, dict) and {"pruned", "distilled", "quantized"} <= set(out), (
        'optimize must return a dict with the models "pruned", "distilled" and "quantized"')
    return out, calls["n"], changed


def float_layers(model):
    return {n: getattr(model, n, None) for n in LAYERS}


def test_the_teacher_is_left_alone(stages):
    assert not stages[2], "optimize changed the teacher's weights: only the student trains"


def test_pruned_network_is_physically_smaller(stages, teacher):
    pruned = stages[0]["pruned"]
    layers = float_layers(pruned)
    missing = [n for n, m in layers.items() if not isinstance(m, nn.Conv2d | nn.Linear)]
    assert not missing, f"the pruned model lacks float layers {missing} (a DigitsCNN)"
    widths = {n: m.weight.shape[0] for n, m in layers.items()}
    full = {n: getattr(teacher, n).weight.shape[0] for n in LAYERS}
    assert all(widths[n] < full[n] for n in ("conv1", "conv2", "fc1")), (
        f"output widths of conv1/conv2/fc1 are {widths['conv1']}/{widths['conv2']}/"
        f"{widths['fc1']}, the teacher's {full['conv1']}/{full['conv2']}/{full['fc1']}: "
        "structured pruning removes channels (zeroing them keeps the shapes)")


def test_distilled_from_the_teacher(stages):
    out, teacher_calls, _ = stages
    pruned, distilled = out["pruned"], out["distilled"]
    shapes = {n: tuple(m.weight.shape) for n, m in float_layers(distilled).items()
              if isinstance(m, nn.Conv2d | nn.Linear)}
    want = {n: tuple(m.weight.shape) for n, m in float_layers(pruned).items()}
    assert shapes == want, f"the distilled model has shapes {shapes}; the pruned one {want}"
    moved = any(not torch.equal(getattr(pruned, n).weight, getattr(distilled, n).weight)
                for n in LAYERS)
    assert moved, "the distilled weights equal the pruned ones: was the student trained?"
    assert teacher_calls >= 10, (
        f"the teacher ran {teacher_calls} time(s) during optimize: distillation needs the "
        "teacher's logits on the training batches (training on the labels alone is not "
        "distillation)")


def test_quantized_model_is_the_distilled_one_in_int8(stages):
    out = stages[0]
    quantized, distilled = out["quantized"], out["distilled"]
    kinds = {"static": [], "dynamic": [], "float": []}
    for name, m in quantized.named_modules():
        if isinstance(m, nnqd.Linear):
            kinds["dynamic"].append(name)
        elif isinstance(m, nnq.Conv2d | nnq.Linear):
            kinds["static"].append((name, m))
        elif isinstance(m, nn.Conv2d | nn.Linear):
            kinds["float"].append(name)
    assert not kinds["dynamic"] and not kinds["float"] and len(kinds["static"]) == 4, (
        f"{len(kinds['static'])} of the 4 layers are statically quantised int8 (dynamic: "
        f"{kinds['dynamic'] or '—'}, float: {kinds['float'] or '—'})")
    by_suffix = {n.split(".")[-1]: m for n, m in kinds["static"]}
    for name in LAYERS:
        q = by_suffix.get(name)
        assert q is not None, f"no int8 layer named {name} in the quantised model"
        w = q.weight()
        ref = getattr(distilled, name).weight.detach()
        assert tuple(w.shape) == tuple(ref.shape), (
            f"int8 {name} has shape {tuple(w.shape)}, the distilled {tuple(ref.shape)}")
        if w.qscheme() in (torch.per_channel_affine, torch.per_channel_symmetric):
            half = w.q_per_channel_scales().reshape(-1, *([1] * (ref.dim() - 1))) / 2
        else:
            half = torch.tensor(w.q_scale() / 2)
        gap = ((w.dequantize() - ref).abs() - half).max().item()
        assert gap <= 1e-6, (
            f"the int8 {name} weights are not the distilled weights rounded (off by {gap:.3g} "
            "beyond half a step): quantise the distilled model, not an earlier stage")


def test_every_stage_is_measured(stages, teacher, data, record_metric):
    out = stages[0]
    models = {"teacher fp32": teacher, "pruned fp32": out["pruned"],
              "distilled fp32": out["distilled"], "quantized int8": out["quantized"]}
    x = data.x_test[:BATCH]
    torch.set_num_threads(1)
    for name, model in models.items():
        record_metric(f"{name}: size", size_bytes(model) / 1024, unit="KiB")
        record_metric(f"{name}: accuracy", accuracy(model, data.x_test, data.y_test) * 100,
                      unit="%")
        with torch.inference_mode():
            model(x)
            t0 = time.thread_time()
            for _ in range(3):
                model(x)
            ms = (time.thread_time() - t0) / 3 * 1e3
        record_metric(f"{name}: CPU time, batch {BATCH}", ms, unit="ms")


def test_size_and_accuracy_targets(stages, teacher, data, bench):
    q = stages[0]["quantized"]
    bench.check_value("size_ratio", size_bytes(q) / size_bytes(teacher),
                      name="size ratio final/teacher")
    drop = (accuracy(teacher, data.x_test, data.y_test)
            - accuracy(q, data.x_test, data.y_test)) * 100
    bench.check_value("accuracy_drop", drop, name="accuracy drop final vs teacher (points)")


def test_speed_targets(stages, teacher, data, bench):
    q = stages[0]["quantized"]
    x = data.x_test[:BATCH]
    torch.set_num_threads(1)
    with torch.inference_mode():
        c = bench.compare(teacher, q, x, name=f"final int8 vs teacher fp32, batch {BATCH}",
                          timer=time.thread_time, max_time_s=2.0)
        m = bench.measure(q, x, name=f"final int8 forward, batch {BATCH}",
                          timer=time.thread_time, max_time_s=1.0, memory=False,
                          rel_iqr_max=0.5)
    assert torch.get_num_threads() == 1, "the model changed torch's thread count"
    bench.check(c, "speedup")
    bench.check(m, "latency")

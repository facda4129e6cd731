"""Day 93 grader: a mixed-precision tuner for the digits MLP with an outlier unit. apply_plan
is compared layer by layer with the grader's own fp32 / bf16 / dynamic-int8 layers;
choose_plan's rule on hand-made rows (the budget's exact boundary, the fastest feasible plan,
no feasible plan); and tune end to end: the grader re-applies the chosen plan itself, scores
all 27 plans for accuracy, times every layer in every precision, and holds the choice to the
accuracy budget and to the speed of the fastest other plan that meets it (interleaved rounds,
thread CPU time, a confidence interval: noise makes the check inconclusive, never failed)."""

import copy
import itertools
import statistics
import time
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.ao.nn.quantized import dynamic as nnqd
from torch.ao.quantization import default_dynamic_qconfig

from graders import expect
from graders.data.digits_cnn import load_digits_images
from graders.data.mixed_precision import BENCH_BATCH, LAYERS, PRECISIONS, tuner_mlp

torch.set_num_threads(1)  # one thread: a fair single-core comparison, steady on a busy machine
warnings.filterwarnings("ignore", category=UserWarning)  # torch.ao's deprecation notes
warnings.filterwarnings("ignore", category=DeprecationWarning)
__warningregistry__: dict = {}
MAX_DROP = 1.0  # accuracy points below the fp32 model on the 450 test images
ROUNDS, WARMUP, BLOCK = 15, 2, 4  # the grader's per-layer timing


# ---- the grader's own precisions ---------------------------------------------------------


def grader_layer(linear: nn.Linear, precision: str) -> nn.Module:
    linear = copy.deepcopy(linear)
    if precision == "fp32":
        return linear
    if precision == "bf16":
        w, b = linear.weight.detach().bfloat16(), linear.bias.detach().bfloat16()
        return _Fn(lambda x: F.linear(x.bfloat16(), w, b).float())
    linear.qconfig = default_dynamic_qconfig
    return nnqd.Linear.from_float(linear)


class _Fn(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def grader_apply(model: nn.Module, plan: dict[str, str]) -> nn.Module:
    out = copy.deepcopy(model).eval()
    for name in LAYERS:
        setattr(out, name, grader_layer(getattr(model, name), plan[name]))
    return out


def show(plan: dict[str, str]) -> str:
    return "{" + ", ".join(f"{n}: {plan[n]}" for n in LAYERS) + "}"


ALL_PLANS = [dict(zip(LAYERS, c, strict=True)) for c in itertools.product(PRECISIONS, repeat=3)]


@pytest.fixture(scope="module")
def data():
    return load_digits_images()


@pytest.fixture(scope="module")
def model():
    return tuner_mlp()


@torch.inference_mode()
def correct(model, data) -> int:
    return int((model(data.x_test).argmax(1) == data.y_test).sum())


@torch.inference_mode()
def layer_inputs(model, x) -> dict[str, torch.Tensor]:
    h1 = torch.flatten(x, 1)
    h2 = torch.relu(model.fc1(h1))
    return {"fc1": h1, "fc2": h2, "fc3": torch.relu(model.fc2(h2))}


def state(model) -> tuple[dict, dict]:
    """Weights, and each module's type and qconfig (a qconfig set on the caller's layer is a
    change too)."""
    return ({k: v.clone() for k, v in model.state_dict().items()},
            {n: (type(m), getattr(m, "qconfig", None)) for n, m in model.named_modules()})


def unchanged(before, model) -> bool:
    weights, types = before
    now = model.state_dict()
    return (set(weights) == set(now) and all(torch.equal(weights[k], now[k]) for k in weights)
            and types == {n: (type(m), getattr(m, "qconfig", None))
                          for n, m in model.named_modules()})


# ---- apply_plan --------------------------------------------------------------------------

MIXED = [{"fc1": "bf16", "fc2": "int8", "fc3": "fp32"},
         {"fc1": "int8", "fc2": "bf16", "fc3": "fp32"}]


def kind_of(layer) -> str:
    return ("int8" if isinstance(layer, nnqd.Linear) else
            "fp32" if isinstance(layer, nn.Linear) else "bf16")


@pytest.mark.parametrize("plan", MIXED, ids=["bf16-int8-fp32", "int8-bf16-fp32"])
def test_apply_plan_builds_each_precision(solution, model, data, plan):
    before = state(model)
    # the keys in reverse order: a plan names its layers, it is not a list of precisions
    got = solution.apply_plan(model, dict(reversed(plan.items())))
    assert unchanged(before, model), (
        "apply_plan modified the model it was given (weights, modules or a qconfig set on "
        "its layers): work on copy.deepcopy(model) and replace the layers of the copy")
    kinds = [kind_of(getattr(got, name, None)) for name in LAYERS]
    by_position = list(reversed(plan.values()))  # the values in the order the plan was passed
    assert not (kinds == by_position and by_position != [plan[n] for n in LAYERS]), (
        f"apply_plan built {dict(zip(LAYERS, kinds, strict=True))} for the plan {show(plan)}, "
        "passed with its keys in the order fc3, fc2, fc1: look each layer's precision up by "
        "its name (plan[name]), not by the position of the plan's values")
    inputs = layer_inputs(model, data.x_test[:64])
    for name in LAYERS:
        layer, want = getattr(got, name, None), plan[name]
        assert layer is not None, f"the model apply_plan returns has no layer {name!r}"
        if want == "int8":
            assert isinstance(layer, nnqd.Linear), (
                f"{name} should be int8 (dynamic): torch.ao.nn.quantized.dynamic.Linear, got "
                f"{type(layer).__name__}")
            assert layer.weight().dtype == torch.qint8, f"{name}: int8 weights must be qint8"
            assert layer.weight().qscheme() in (torch.per_tensor_affine,
                                                torch.per_tensor_symmetric), (
                f"{name}: weights quantised {layer.weight().qscheme()}; the spec's int8 is the "
                "default dynamic qconfig (per-tensor qint8 weights)")
            continue
        if want == "fp32":
            assert isinstance(layer, nn.Linear) and layer.weight.dtype == torch.float32, (
                f"{name} should stay a float32 nn.Linear, got {type(layer).__name__}")
            assert torch.equal(layer.weight, getattr(model, name).weight), (
                f"{name} is fp32 in the plan but its weights changed")
            continue
        assert not isinstance(layer, nnqd.Linear), f"{name} should be bf16, not int8"
        with torch.inference_mode():
            out = layer(inputs[name])
            ref = grader_layer(getattr(model, name), "bf16")(inputs[name])
            exact = getattr(model, name)(inputs[name])
        assert isinstance(out, torch.Tensor) and out.dtype == torch.float32, (
            f"{name} (bf16) returned {getattr(out, 'dtype', type(out))}: a bf16 layer takes "
            "and returns float32 — cast its output back with .float()")
        assert not torch.equal(out, exact), (
            f"{name} (bf16) gives exactly the float32 result: it does not compute in bfloat16 "
            "(cast the input, weight and bias to torch.bfloat16)")
        expect.close(out.numpy(), ref.numpy(), what=f"{name} in bf16 on its input",
                     rtol=2e-2, atol=2e-2, oracle="F.linear in bfloat16")
    with torch.inference_mode():
        logits = got(data.x_test)
        want = grader_apply(model, plan)(data.x_test)
    assert logits.dtype == torch.float32 and logits.shape == (450, 10), (
        f"the model returns {logits.dtype} {tuple(logits.shape)}, not float32 (450, 10) logits")
    # every logit carries fc3's common offset of 2048: compare them centred per image
    expect.close((logits - logits.mean(1, keepdim=True)).numpy(),
                 (want - want.mean(1, keepdim=True)).numpy(),
                 what=f"logits (centred per image) of the plan {show(plan)}", rtol=2e-2,
                 atol=5e-2, oracle="the grader's own application of the plan")


def test_apply_plan_rejects_bad_plans(solution, model):
    fine = {"fc1": "fp32", "fc2": "fp32", "fc3": "fp32"}
    expect.raises(ValueError, solution.apply_plan, model, {**fine, "fc2": "fp16"},
                  what="apply_plan", why="'fp16' is not one of fp32, bf16, int8")
    expect.raises(ValueError, solution.apply_plan, model, {"fc1": "fp32", "fc2": "fp32"},
                  what="apply_plan", why="the plan does not name fc3")
    expect.raises(ValueError, solution.apply_plan, model, {**fine, "fc4": "int8"},
                  what="apply_plan", why="the model has no layer fc4")


# ---- choose_plan -------------------------------------------------------------------------


def row(p1, p2, p3, accuracy, ms):
    return {"plan": {"fc1": p1, "fc2": p2, "fc3": p3}, "accuracy": accuracy, "latency_ms": ms}


CASES = [  # (rows, baseline accuracy, max_drop, the answer's index, what it checks)
    ([row("fp32", "fp32", "fp32", 0.98, 3.0), row("int8", "int8", "int8", 0.50, 1.0),
      row("bf16", "int8", "fp32", 0.975, 1.5), row("bf16", "bf16", "bf16", 0.98, 2.0)],
     0.98, 1.0, 2, "the fastest plan drops 48 points; the fastest within 1 point wins"),
    ([row("fp32", "fp32", "fp32", 0.90, 3.0), row("fp32", "int8", "fp32", 0.89, 1.0),
      row("bf16", "fp32", "fp32", 0.9, 2.0)],
     0.90, 1.0, 1, "0.90 → 0.89 is a drop of exactly 1 point (100·(0.90 − 0.89) is "
     "1.0000000000000009 in floating point): exactly max_drop is within the budget"),
    ([row("fp32", "fp32", "fp32", 0.90, 3.0), row("fp32", "int8", "fp32", 0.8877, 1.0),
      row("bf16", "fp32", "fp32", 0.9, 2.0)],
     0.90, 1.0, 2, "a drop of 1.23 points misses a budget of 1 point"),
    ([row("fp32", "fp32", "fp32", 0.95, 3.0), row("bf16", "bf16", "fp32", 0.96, 2.5),
      row("fp32", "int8", "int8", 0.935, 0.9)],
     0.95, 2.0, 2, "max_drop is in points: a drop of 1.5 points fits a budget of 2"),
    ([row("fp32", "fp32", "fp32", 0.95, 3.0), row("fp32", "bf16", "fp32", 0.95, 2.0),
      row("bf16", "fp32", "fp32", 0.95, 2.0)],
     0.95, 1.0, 1, "two feasible plans equally fast: the first in the list"),
]


@pytest.mark.parametrize("rows,base,max_drop,want,why", CASES,
                         ids=[f"case{i}" for i in range(len(CASES))])
def test_choose_plan_rule(solution, rows, base, max_drop, want, why):
    frozen = copy.deepcopy(rows)
    got = solution.choose_plan(rows, base, max_drop)
    assert rows == frozen, "choose_plan must not modify the rows it is given (no sorting in place)"
    assert got == frozen[want]["plan"], (
        f"choose_plan chose {got!r}, expected {show(frozen[want]['plan'])}: {why}")


def test_choose_plan_raises_when_nothing_fits(solution):
    rows = [row("int8", "int8", "int8", 0.5, 1.0), row("int8", "bf16", "fp32", 0.9, 2.0)]
    expect.raises(ValueError, solution.choose_plan, rows, 0.95, 1.0, what="choose_plan",
                  why="every plan drops more than 1 point below 0.95")
    expect.raises(ValueError, solution.choose_plan, [], 0.95, 1.0, what="choose_plan",
                  why="there are no rows at all")


# ---- tune, end to end --------------------------------------------------------------------


@pytest.fixture(scope="module")
def tuned(solution, model, data):
    """(plan, model unchanged?, seconds, torch's thread count afterwards)"""
    before = state(model)
    torch.set_num_threads(1)
    t = time.perf_counter()
    plan = solution.tune(model, data.x_test.clone(), data.y_test.clone(),
                         data.x_test[:BENCH_BATCH].clone(), max_drop=MAX_DROP)
    took = time.perf_counter() - t
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    return plan, unchanged(before, model), took, threads


def valid_plan(tuned) -> dict[str, str]:
    plan = tuned[0]
    if not (isinstance(plan, dict) and set(plan) == set(LAYERS)
            and all(plan[n] in PRECISIONS for n in LAYERS)):
        pytest.fail(f"tune must return a plan {{layer: precision}} naming {', '.join(LAYERS)}, "
                    f"each one of {', '.join(PRECISIONS)}; got {plan!r}", pytrace=False)
    return plan


@pytest.fixture(scope="module")
def accuracies(model, data) -> dict[tuple, int]:
    """Correct predictions (of 450) of every plan, the grader's application."""
    return {tuple(p[n] for n in LAYERS): correct(grader_apply(model, p), data)
            for p in ALL_PLANS}


def drop_pt(accuracies, plan, n) -> float:
    return 100 * (accuracies[("fp32",) * 3] - accuracies[tuple(plan[n] for n in LAYERS)]) / n


def test_tune_returns_a_plan_and_leaves_the_model_alone(tuned, record_metric):
    valid_plan(tuned)
    _, same, took, threads = tuned
    record_metric("tuning time", took, unit="s")
    assert same, ("tune modified the model it was given (weights, modules or a qconfig set "
                  "on its layers): plans are applied to copies, int8 layers made from copies")
    assert threads == 1, (f"tune left torch on {threads} threads; the grader set one "
                          "(torch.set_num_threads(1)) and latencies are compared on one")


def test_plan_meets_the_accuracy_budget(tuned, accuracies, data, record_metric):
    plan = valid_plan(tuned)
    n = len(data.y_test)
    drop = drop_pt(accuracies, plan, n)
    record_metric("accuracy drop of the plan", drop, unit="pt", target=f"<= {MAX_DROP}",
                  verdict="PASS" if drop <= MAX_DROP + 1e-9 else "FAIL")
    if drop > MAX_DROP + 1e-9:
        int8_hurts = [name for name in LAYERS if plan[name] == "int8"
                      and drop_pt(accuracies, {**{m: "fp32" for m in LAYERS}, name: "int8"},
                                  n) > MAX_DROP]
        pytest.fail(f"the plan {show(plan)} loses {drop:.2f} accuracy points on the 450 test "
                    f"images (the budget is {MAX_DROP}): "
                    + (f"int8 alone in {', '.join(int8_hurts)} already costs more — measure "
                       "each plan's accuracy, the fastest plan is not always allowed"
                       if int8_hurts else "measure the accuracy of the plan you choose"),
                    pytrace=False)


@torch.inference_mode()
def grader_layer_ms(model, x) -> dict[str, dict[str, float]]:
    inputs = layer_inputs(model, x)
    out = {}
    for name in LAYERS:
        variants = {p: grader_layer(getattr(model, name), p) for p in PRECISIONS}
        times = {p: [] for p in PRECISIONS}
        for r in range(WARMUP + ROUNDS):
            for p in PRECISIONS if r % 2 == 0 else PRECISIONS[::-1]:
                t = time.thread_time()
                for _ in range(BLOCK):
                    variants[p](inputs[name])
                if r >= WARMUP:
                    times[p].append((time.thread_time() - t) / BLOCK * 1e3)
        out[name] = {p: statistics.median(v) for p, v in times.items()}
    return out


def test_no_other_plan_within_the_budget_is_clearly_faster(tuned, accuracies, model, data,
                                                          bench, record_metric):
    plan = valid_plan(tuned)
    n = len(data.y_test)
    if drop_pt(accuracies, plan, n) > MAX_DROP + 1e-9:
        pytest.fail("the plan misses the accuracy budget (see that check): its speed is not "
                    "compared", pytrace=False)
    x = data.x_test[:BENCH_BATCH]
    layer_ms = grader_layer_ms(model, x)
    for name in LAYERS:
        for p in PRECISIONS:
            record_metric(f"{name} in {p}", layer_ms[name][p], unit="ms")

    def predicted(p):
        return sum(layer_ms[name][p[name]] for name in LAYERS)

    feasible = [p for p in ALL_PLANS if drop_pt(accuracies, p, n) <= MAX_DROP + 1e-9]
    rival = min((p for p in feasible if p != plan), key=predicted)
    record_metric("predicted speed-up of the plan over fp32",
                  predicted(dict.fromkeys(LAYERS, "fp32")) / predicted(plan), unit="x")
    torch.set_num_threads(1)
    with torch.inference_mode():
        yours, theirs = grader_apply(model, plan), grader_apply(model, rival)
        c = bench.compare(theirs, yours, x, name=f"your plan {show(plan)} vs {show(rival)}",
                          timer=time.thread_time, max_time_s=1.5)
    assert torch.get_num_threads() == 1, "the model changed torch's thread count"
    bench.check(c, "plan_vs_best")

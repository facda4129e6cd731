"""Day 77 grader: the learner prunes and quantises the grader's trained GCN on the citation
graph. Pruning is checked weight by weight against torch.nn.utils.prune (magnitude, per
layer); the int8 model against torch's own dynamic quantisation; then size, accuracy and CPU
latency measured in this run, and the pruning amount the learner picks against the
grader's own sweep of the same amounts."""

import copy
import time
import warnings

import pytest
import torch
import torch._dynamo  # noqa: F401  (quantisation imports it and it wraps torch.manual_seed:
import torch.nn.utils.prune as prune  # imported before the grade, so the guard is quiet)
from torch import nn
from torch.ao.nn.quantized import dynamic as nnqd
from torch.ao.quantization import quantize_dynamic

from graders.data.citation_gcn import accuracy, norm_adj, size_bytes, trained_gcn
from graders.data.citation_graph import load_citation_graph

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=UserWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)
__warningregistry__: dict = {}
AMOUNTS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
MAX_DROP_PT = 2.0
LAYERS = ("lin1", "lin2")


@pytest.fixture(scope="module")
def graph():
    g = load_citation_graph()
    return g, norm_adj(g)


@pytest.fixture(scope="module")
def fp32():
    return trained_gcn()


def unchanged(model: nn.Module, original: nn.Module) -> bool:
    a, b = model.state_dict(), original.state_dict()
    return set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a) and \
        [type(m) for m in model.modules()] == [type(m) for m in original.modules()]


def oracle_pruned(model: nn.Module, amount: float) -> nn.Module:
    m = copy.deepcopy(model)
    for name in LAYERS:
        prune.l1_unstructured(getattr(m, name), "weight", amount=amount)
        prune.remove(getattr(m, name), "weight")
    return m


# 3/512 is an exact tie for lin2: 1792 · 3/512 = 10.5, which round() takes to 10 (halves to even)
@pytest.mark.parametrize("amount", [0.3, 0.9, 3 / 512])
def test_pruning_zeroes_the_smallest_weights_of_each_layer(solution, fp32, amount):
    given = copy.deepcopy(fp32)
    pruned = solution.prune_linear_layers(given, amount)
    assert unchanged(given, fp32), (
        "prune_linear_layers changed the model passed to it: prune a copy")
    keys = set(pruned.state_dict())
    assert keys == set(fp32.state_dict()), (
        f"the pruned model's state_dict has {sorted(keys)}: make the pruning permanent "
        "(torch.nn.utils.prune.remove) so that only plain weights remain, no "
        "weight_orig/weight_mask")
    want = oracle_pruned(fp32, amount)
    for name in LAYERS:
        w0 = getattr(fp32, name).weight.detach()
        got = getattr(pruned, name).weight.detach()
        zeros, need = int((got == 0).sum()), round(amount * w0.numel())
        assert zeros == need, (
            f"{name}: {zeros} of {w0.numel()} weights are 0 at amount={amount}; per layer it "
            f"must be round(amount · numel) = {need} (Python's round, halves to even; global "
            "pruning ranks all layers together and gives each layer a different share)")
        kept = got != 0
        assert torch.equal(got[kept], w0[kept]), f"{name}: the weights kept must keep their values"
        assert torch.equal(kept, getattr(want, name).weight != 0), (
            f"{name}: the zeroed weights are not the {need} of smallest magnitude |w| "
            "(torch.nn.utils.prune.l1_unstructured disagrees): rank by absolute value")
        assert torch.equal(getattr(pruned, name).bias, getattr(fp32, name).bias), (
            f"{name}: the bias must be left alone")


# choose_pruning before the int8 model: its checks need no benchmark
def oracle_choice(fp32, g, adj, amounts, max_drop_pt):
    mask, n = g.val_mask, int(g.val_mask.sum())

    def correct(m):
        with torch.no_grad():
            return int((m(g.x, adj).argmax(1)[mask] == g.y[mask]).sum())

    base = correct(fp32)
    drops = {a: 100 * (base - correct(oracle_pruned(fp32, a))) / n for a in amounts}
    ok = [a for a in amounts if drops[a] <= max_drop_pt]
    return (max(ok) if ok else 0.0), drops


def test_choose_pruning_picks_the_largest_allowed_amount(solution, fp32, graph, record_metric):
    g, adj = graph
    want, drops = oracle_choice(fp32, g, adj, AMOUNTS, MAX_DROP_PT)
    got = solution.choose_pruning(copy.deepcopy(fp32), g, adj, AMOUNTS[::-1], MAX_DROP_PT)
    table = ", ".join(f"{a:g}: {d:.1f}" for a, d in drops.items())
    assert got == want, (
        f"choose_pruning(amounts 0.9 … 0.1, max_drop_pt={MAX_DROP_PT}) returned {got!r}; the "
        f"largest amount whose validation drop is ≤ {MAX_DROP_PT} pt is {want} (validation "
        f"drops in points — {table}). Every amount is tried, in any order; the drop is "
        "measured on val_mask, not test_mask")
    pruned = oracle_pruned(fp32, want)
    record_metric("chosen pruning amount", want * 100, unit="%")
    record_metric("pruned test accuracy drop", (accuracy(fp32, g) - accuracy(pruned, g)) * 100,
                  unit="pt")


def test_choose_pruning_boundary_and_empty_budget(solution, fp32, graph):
    g, adj = graph
    amounts = (0.6, 0.7, 0.8)
    _, drops = oracle_choice(fp32, g, adj, amounts, 0.0)
    # a budget exactly equal to 0.7's drop: "≤" admits 0.7 (0.8 drops more on this model)
    exact = drops[0.7]
    got = solution.choose_pruning(copy.deepcopy(fp32), g, adj, amounts, exact)
    want, _ = oracle_choice(fp32, g, adj, amounts, exact)
    assert got == want, (
        f"with max_drop_pt equal to the drop of amount 0.7 ({exact!r} points, computed as "
        f"100 · (correct_dense − correct_pruned) / 500) the answer is {want}: the budget is "
        f"inclusive (drop ≤ max_drop_pt); got {got!r}")
    none = solution.choose_pruning(copy.deepcopy(fp32), g, adj, amounts, -1.0)
    assert none == 0.0, f"when no amount fits the budget the answer is 0.0, got {none!r}"


@pytest.fixture(scope="module")
def int8(solution, fp32):
    given = copy.deepcopy(fp32)
    q = solution.quantize_int8(given)
    return q, unchanged(given, fp32)


def test_quantised_model_is_dynamic_int8(int8, fp32, graph):
    q, left_alone = int8
    assert left_alone, "quantize_int8 changed the model passed to it: quantise a copy"
    for name in LAYERS:
        layer = getattr(q, name, None)
        assert isinstance(layer, nnqd.Linear), (
            f"{name} is {type(layer).__name__}, expected a dynamically quantised "
            "torch.ao.nn.quantized.dynamic.Linear")
        assert layer.weight().dtype == torch.qint8, (
            f"{name} stores {layer.weight().dtype} weights, expected torch.qint8 (int8)")
    g, adj = graph
    want = quantize_dynamic(copy.deepcopy(fp32), {nn.Linear}, dtype=torch.qint8)
    with torch.no_grad():
        got, ref = q(g.x, adj), want(g.x, adj)
    assert torch.allclose(got, ref, atol=1e-4), (
        f"int8 logits differ from torch's dynamic qint8 quantisation by "
        f"{float((got - ref).abs().max()):.3g} (allowed 1e-4)")


def test_int8_size_and_accuracy(int8, fp32, graph, bench, record_metric):
    q, _ = int8
    g, _ = graph
    a, b = size_bytes(fp32), size_bytes(q)
    record_metric("fp32 size", a / 1024, unit="KiB")
    record_metric("int8 size", b / 1024, unit="KiB")
    base, got = accuracy(fp32, g), accuracy(q, g)
    record_metric("fp32 test accuracy", base * 100, unit="%")
    record_metric("int8 test accuracy", got * 100, unit="%")
    bench.check_value("int8_size_ratio", b / a, name="size ratio int8/fp32 (state_dict bytes)")
    bench.check_value("int8_accuracy_drop", (base - got) * 100, name="int8 accuracy drop (pt)")


def test_int8_latency(int8, fp32, graph, bench):
    q, _ = int8
    g, adj = graph
    torch.set_num_threads(1)
    with torch.inference_mode():
        # thread CPU time: time that other processes take on a shared machine is not counted
        c = bench.compare(fp32, q, g.x, adj, name="int8 vs fp32 GCN inference, 2000 nodes",
                          timer=time.thread_time, max_time_s=2.0)
        m = bench.measure(q, g.x, adj, name="int8 GCN inference, 2000 nodes",
                          timer=time.thread_time, max_time_s=1.0, memory=False, rel_iqr_max=0.5)
    assert torch.get_num_threads() == 1, "the model changed torch's thread count"
    bench.check(c, "int8_speedup")
    bench.check(m, "int8_latency")

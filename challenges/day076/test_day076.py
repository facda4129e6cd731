"""Day 76 grader: the learner's GraphSAGE (mean) and GAT layers against PyTorch Geometric's
SAGEConv and GATConv with the same weights (outputs and attention coefficients), then the
learner's comparison run on the citation graph: accuracies recomputed from the returned
models, training times bracketed by the grader's own clock, parameter counts recounted."""

import time
import warnings

import numpy as np
import pytest
import torch
import torch._dynamo  # noqa: F401  (torch.optim imports it and it wraps torch.manual_seed;
from torch_geometric.nn import GATConv, SAGEConv  # PyG swaps torch.index_select/select on

from graders import expect  # import: all imported before the grade, so the guard is quiet)
from graders.data.citation_graph import load_citation_graph

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=UserWarning)
__warningregistry__: dict = {}
TOL = 1e-5
MIN_ACCURACY = {"sage": 0.70, "gat": 0.72}
SMALL_DIRECTED = (torch.tensor([[1, 2, 3, 0, 4, 2], [0, 0, 0, 1, 1, 3]]), 6)  # node 5 isolated


def graphs():
    g = load_citation_graph()
    return {"citation": (g.x, g.edge_index),
            "small directed": (torch.randn(SMALL_DIRECTED[1], 800,
                                           generator=torch.Generator().manual_seed(3)),
                               SMALL_DIRECTED[0])}


def seeded_randn(shape, seed):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("graph", ["citation", "small directed"])
def test_sage_layer_matches_pyg(solution, graph):
    x, edge_index = graphs()[graph]
    layer = solution.SAGELayer(800, 16)
    for name, bias in (("lin_neigh", True), ("lin_self", False)):
        lin = getattr(layer, name, None)
        assert isinstance(lin, torch.nn.Linear) and (lin.bias is not None) == bias, (
            f"SAGELayer.{name} must be nn.Linear(800, 16{'' if bias else ', bias=False'})")
    oracle = SAGEConv(800, 16, aggr="mean")
    with torch.no_grad():
        oracle.lin_l.bias.copy_(seeded_randn(16, 1))
        layer.lin_neigh.weight.copy_(oracle.lin_l.weight)
        layer.lin_neigh.bias.copy_(oracle.lin_l.bias)
        layer.lin_self.weight.copy_(oracle.lin_r.weight)
        got, want = layer(x, edge_index), oracle(x, edge_index)
    hint = ""
    if graph == "small directed" and got.shape == want.shape and not torch.allclose(
            got, want, atol=TOL):
        hint = (" (on a directed graph: edge j → i is edge_index[:, k] = (j, i), and node i "
                "averages the x_j of the edges arriving at it; an isolated node's mean is 0)")
    expect.close(got.numpy(), want.numpy(), what=f"SAGELayer(800, 16) on the {graph} graph{hint}",
                 rtol=0, atol=TOL, oracle="torch_geometric.nn.SAGEConv(aggr='mean'), same weights")


def _gat_pair(solution, heads, concat, out=8):
    layer = solution.GATLayer(800, out, heads=heads, concat=concat)
    oracle = GATConv(800, out, heads=heads, concat=concat, negative_slope=0.2)
    size = heads * out if concat else out
    shapes = {"lin.weight": (heads * out, 800), "att_src": (1, heads, out),
              "att_dst": (1, heads, out), "bias": (size,)}
    mine = dict(layer.named_parameters())
    for name, shape in shapes.items():
        assert name in mine and tuple(mine[name].shape) == shape, (
            f"GATLayer(800, {out}, heads={heads}, concat={concat}) must have a parameter "
            f"{name} of shape {shape} (got {tuple(mine[name].shape) if name in mine else 'none'})")
    with torch.no_grad():
        oracle.bias.copy_(seeded_randn(size, heads))
        theirs = dict(oracle.named_parameters())
        for name in shapes:
            mine[name].copy_(theirs[name])
    return layer, oracle


def _by_edge(edge_index, alpha, n, heads):
    """The coefficients keyed by edge (target·n + source), duplicates summed: the dense
    [target, source] matrix without its zeros (2000² entries per head cost seconds)."""
    ei = edge_index.numpy()
    keys, where = np.unique(ei[1] * n + ei[0], return_inverse=True)
    summed = np.zeros((len(keys), heads))
    np.add.at(summed, where, alpha.detach().numpy().reshape(len(ei[0]), heads))
    return keys, summed


def _on(keys, values, union):
    full = np.zeros((len(union), values.shape[1]))
    full[np.searchsorted(union, keys)] = values
    return full


@pytest.mark.parametrize("graph", ["citation", "small directed"])
def test_gat_attention_coefficients(solution, graph):
    x, edge_index = graphs()[graph]
    n, heads = x.shape[0], 4
    layer, oracle = _gat_pair(solution, heads, True)
    with torch.no_grad():
        result = layer.attention(x, edge_index)
        _, (ei_want, alpha_want) = oracle(x, edge_index, return_attention_weights=True)
    assert isinstance(result, tuple) and len(result) >= 2, (
        "GATLayer.attention must return (edge_index with self-loops, alpha)")
    ei_got, alpha_got = result[0], result[1]
    assert tuple(alpha_got.shape) == (ei_got.shape[1], heads), (
        f"alpha must have shape (edges incl. self-loops, heads) = ({ei_got.shape[1]}, {heads}); "
        f"got {tuple(alpha_got.shape)}")
    assert ei_got.shape[1] == edge_index.shape[1] + n, (
        f"attention covers {ei_got.shape[1]} edges; the graph has {edge_index.shape[1]} plus "
        f"{n} self-loops (each node also attends to itself)")
    keys_got, got = _by_edge(ei_got, alpha_got, n, heads)
    sums = np.zeros((n, heads))
    np.add.at(sums, keys_got // n, got)
    assert np.allclose(sums, 1.0, atol=TOL), (
        f"the coefficients arriving at a node must sum to 1 in every head (softmax over its "
        f"neighbours and itself); sums range {sums.min():.4g}..{sums.max():.4g} — softmax over "
        "the edges into each target node, not over all edges or the sources")
    keys_want, want = _by_edge(ei_want, alpha_want, n, heads)
    union = np.union1d(keys_got, keys_want)  # an edge missing on one side counts as 0 there
    got, want = _on(keys_got, got, union), _on(keys_want, want, union)
    edge, head = np.unravel_index(np.argmax(np.abs(got - want)), got.shape)
    target, source = divmod(int(union[edge]), n)
    expect.close(got, want, what=f"GAT attention coefficients (heads=4) on the {graph} graph "
                 f"(compared by edge; the largest difference: edge {source} → {target}, "
                 f"head {head})", rtol=0, atol=TOL,
                 oracle="GATConv(return_attention_weights=True): LeakyReLU(0.2), softmax")


@pytest.mark.parametrize("heads,concat", [(1, True), (4, True), (4, False)])
@pytest.mark.parametrize("graph", ["citation", "small directed"])
def test_gat_layer_matches_pyg(solution, heads, concat, graph):
    x, edge_index = graphs()[graph]
    layer, oracle = _gat_pair(solution, heads, concat)
    with torch.no_grad():
        got, want = layer(x, edge_index), oracle(x, edge_index)
    expect.close(got.numpy(), want.numpy(),
                 what=f"GATLayer(800, 8, heads={heads}, concat={concat}) on the {graph} graph",
                 rtol=0, atol=TOL, oracle="torch_geometric.nn.GATConv, same weights")


def test_models_are_built_as_specified(solution):
    shapes = {  # parameter shapes of SAGE(800, 64, 7) and GAT(800, 8, 7) (8 heads, then 1)
        "SAGE": ("sage", {"conv1.lin_neigh.weight": (64, 800), "conv2.lin_neigh.weight": (7, 64)}),
        "GAT": ("gat", {"conv1.lin.weight": (64, 800), "conv1.att_src": (1, 8, 8),
                        "conv1.bias": (64,), "conv2.lin.weight": (7, 64),
                        "conv2.att_src": (1, 1, 7), "conv2.bias": (7,)}),
    }
    for cls, (_, want) in shapes.items():
        args = (800, 64, 7) if cls == "SAGE" else (800, 8, 7)
        got = {k: tuple(v.shape) for k, v in getattr(solution, cls)(*args).named_parameters()}
        wrong = {k: got.get(k) for k, shape in want.items() if got.get(k) != shape}
        assert not wrong, (
            f"{cls}{args}: parameters {wrong}, expected {({k: want[k] for k in wrong})} — "
            + ("conv2 = GATLayer(hidden·heads, num_classes, heads=1, concat=False)"
               if cls == "GAT" else "conv1 = SAGELayer(in, hidden), conv2 = SAGELayer(hidden, C)"))


@pytest.mark.parametrize("cls,act,p", [("SAGE", torch.relu, 0.5),
                                       ("GAT", torch.nn.functional.elu, 0.6)])
def test_dropout_only_on_the_hidden_layer(solution, cls, act, p):
    g = load_citation_graph()
    torch.manual_seed(1)
    model = getattr(solution, cls)(800, 8, 7).train()
    x, ei = g.x, g.edge_index
    with torch.no_grad():
        torch.manual_seed(2)
        got = model(x, ei)
        torch.manual_seed(2)
        want = model.conv2(torch.nn.functional.dropout(act(model.conv1(x, ei)), p, True), ei)
    expect.close(got.numpy(), want.numpy(), what=f"{cls} logits in training mode",
                 rtol=0, atol=TOL, oracle=f"conv2(F.dropout({act.__name__}(conv1(x)), {p}, "
                 "True)) after the same torch seed: dropout on the hidden layer only, nothing "
                 "else random in forward")


def _row(rows, name):
    assert isinstance(rows, list), f"compare must return a list of dicts, got {type(rows)}"
    found = [r for r in rows if isinstance(r, dict) and r.get("model") == name]
    assert len(found) == 1, f"compare must return exactly one row with model == {name!r}"
    row = found[0]
    missing = {"net", "test_acc", "train_s", "params"} - set(row)
    assert not missing, f"the {name} row lacks {sorted(missing)}"
    return row


def test_comparison_is_seeded(solution):
    g = load_citation_graph()
    again = [solution.compare(g, epochs=2, seed=0) for _ in range(2)]
    for name in ("sage", "gat"):
        a, b = (_row(r, name)["net"].state_dict() for r in again)
        same = set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)
        assert same, (f"compare(epochs=2, seed=0) twice gave different {name} weights: call "
                      "torch.manual_seed(seed) before building each model")


def _replay(solution, g, name, epochs, seed):
    """The spec's recipe for one model, step by step, with the learner's classes."""
    build, lr, wd = {"sage": (lambda: solution.SAGE(800, 64, 7), 0.01, 5e-3),
                     "gat": (lambda: solution.GAT(800, 8, 7), 0.005, 5e-4)}[name]
    torch.manual_seed(seed)
    net = build().train()
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=wd)
    for _ in range(epochs):
        opt.zero_grad()
        out = net(g.x, g.edge_index)
        torch.nn.functional.cross_entropy(out[g.train_mask], g.y[g.train_mask]).backward()
        opt.step()
    return net


def test_comparison_follows_each_recipe_with_its_seed(solution):
    g = load_citation_graph()
    rows = solution.compare(g, epochs=2, seed=1)
    for name in ("sage", "gat"):
        got = _row(rows, name)["net"].state_dict()
        want = _replay(solution, g, name, epochs=2, seed=1).state_dict()
        assert set(got) == set(want), f"the {name} net's parameters differ from {name.upper()}'s"
        for k in want:
            expect.close(got[k].numpy(), want[k].numpy(),
                         what=f"{name} weight {k} after compare(epochs=2, seed=1)", rtol=0,
                         atol=1e-4, oracle="the recipe replayed: torch.manual_seed(seed) right "
                         "before building each model, then its Adam (lr, weight decay)")


@pytest.fixture(scope="module")
def comparison(solution):
    """compare() on the citation graph, with every layer call time-stamped by the grader."""
    g = load_citation_graph()
    stamps: dict[str, list[tuple[float, bool]]] = {"SAGELayer": [], "GATLayer": []}
    originals = {name: getattr(solution, name).forward for name in stamps}

    def stamped(name):
        def forward(self, *args, **kwargs):
            stamps[name].append((time.perf_counter(), self.training))
            return originals[name](self, *args, **kwargs)
        return forward

    for name in stamps:
        getattr(solution, name).forward = stamped(name)
    try:
        start = time.perf_counter()
        rows = solution.compare(g, epochs=100, seed=0)
        wall = time.perf_counter() - start
        taken = {name: list(calls) for name, calls in stamps.items()}
    finally:
        for name, fn in originals.items():
            getattr(solution, name).forward = fn
    return g, rows, (start, wall), taken


@pytest.mark.parametrize("name", ["sage", "gat"])
def test_comparison_accuracy_is_measured(comparison, name, record_metric):
    g, rows, _, _ = comparison
    row = _row(rows, name)
    net = row["net"]
    assert isinstance(net, torch.nn.Module) and not net.training, (
        f"the {name} row's net must be the trained model, in eval mode")
    kind = {"sage": "SAGELayer", "gat": "GATLayer"}[name]
    assert any(type(m).__name__ == kind for m in net.modules()), (
        f"the {name} model must be built from your {kind}")
    with torch.no_grad():
        pred = net(g.x, g.edge_index).argmax(1)
    acc = float((pred[g.test_mask] == g.y[g.test_mask]).float().mean())
    record_metric(f"{name} test accuracy", acc * 100, unit="%",
                  target=f">= {MIN_ACCURACY[name]:.0%}",
                  verdict="PASS" if acc >= MIN_ACCURACY[name] else "FAIL")
    assert abs(float(row["test_acc"]) - acc) <= 1e-6, (
        f"the {name} row says test_acc = {row['test_acc']!r}, its model classifies {acc:.4f} "
        "of the test nodes correctly: measure the accuracy (a fraction in [0, 1]) on the "
        "test mask, do not type it in")
    params = sum(p.numel() for p in net.parameters())
    assert row["params"] == params, (
        f"the {name} row says params = {row['params']!r}; its model has {params}")
    assert acc >= MIN_ACCURACY[name], (
        f"{name}: {acc:.1%} test accuracy, the spec asks for ≥ {MIN_ACCURACY[name]:.0%} "
        "with its recipe")


@pytest.mark.parametrize("name,kind", [("sage", "SAGELayer"), ("gat", "GATLayer")])
def test_comparison_time_is_measured(comparison, name, kind, record_metric):
    _, rows, (start, wall), stamps = comparison
    row = _row(rows, name)
    calls = [t for t, _ in stamps[kind]]
    assert len(calls) >= 200, (
        f"compare(epochs=100) called {kind}.forward {len(calls)} times; 100 epochs of a "
        "2-layer model make at least 200 calls")
    span = calls[-1] - calls[0]  # first training step .. the evaluation pass
    train_s = float(row["train_s"])
    record_metric(f"{name} training time", train_s, unit="s")
    assert 0.8 * span <= train_s <= wall, (
        f"the {name} row says train_s = {train_s:.4g} s; the grader's clock saw its layers "
        f"called over {span:.3g} s, and compare took {wall:.3g} s in all: time the training "
        "loop (time.perf_counter before and after), do not type the time in")
    # the timer starts after the other model's last call before this one trains and stops
    # before this model's first eval-mode call after its training: no evaluation inside
    trained = [t for t, training in stamps[kind] if training]
    other = "GATLayer" if kind == "SAGELayer" else "SAGELayer"
    before = max([t for t, _ in stamps[other] if t < trained[0]], default=start)
    evals = [t for t, training in stamps[kind] if not training and t > trained[-1]]
    until = evals[0] if evals else start + wall
    assert train_s <= until - before, (
        f"the {name} row says train_s = {train_s:.4g} s, but only {until - before:.4g} s "
        f"passed between the start of its training and its first evaluation pass: train_s "
        "times the training loop alone, not the evaluation")

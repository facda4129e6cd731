"""Day 75 grader: the symmetric GCN normalisation against its closed form (numpy), the
learner's GCN layer against PyTorch Geometric's GCNConv with the same weights, and a 2-layer
GCN trained by the learner's code on the citation graph, scored on the test nodes with the
true labels (the graph it trains on has every label outside the training mask shuffled)."""

import dataclasses
import time
import warnings

import numpy as np
import pytest
import torch
import torch._dynamo  # noqa: F401  (torch.optim imports it and it wraps torch.manual_seed;
import torch.nn.functional as F
from torch_geometric.nn import GCNConv  # PyG swaps torch.index_select/select on import: both

from graders import expect  # are imported before the grade, so the guard does not blame them)
from graders.data.citation_graph import load_citation_graph

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=UserWarning)  # torch.sparse's beta notes
__warningregistry__: dict = {}
MIN_ACCURACY, TOL = 0.75, 1e-5


def dense(a) -> torch.Tensor:
    assert isinstance(a, torch.Tensor), f"expected a torch.Tensor, got {type(a).__name__}"
    return a.to_dense() if a.layout != torch.strided else a


def formula(edge_index: np.ndarray, n: int, loops=True, sym=True) -> np.ndarray:
    a = np.zeros((n, n))
    a[edge_index[1], edge_index[0]] = 1.0  # row = target, column = source
    if loops:
        a += np.eye(n)
    deg = a.sum(1)
    with np.errstate(divide="ignore"):
        d = np.where(deg > 0, deg ** -0.5, 0.0)
        inv = np.where(deg > 0, 1.0 / deg, 0.0)
    return d[:, None] * a * d[None, :] if sym else inv[:, None] * a


def undirected(pairs, n):
    e = np.array(pairs, dtype=np.int64).T
    return torch.from_numpy(np.concatenate([e, e[::-1]], axis=1)), n


SMALL = {
    "a path 0-1-2-3 and an isolated node 4": undirected([(0, 1), (1, 2), (2, 3)], 5),
    "a star centred at 0 with 5 leaves": undirected([(0, k) for k in range(1, 6)], 6),
    "a triangle with a tail": undirected([(0, 1), (1, 2), (0, 2), (2, 3)], 4),
    # directed: in-degrees (edges arriving) differ from out-degrees, node 4 is isolated
    "a directed graph with an isolated node 4":
        (torch.tensor([[1, 2, 3, 0, 2], [0, 0, 0, 1, 3]]), 5),
}


def _loops_not_counted(ei: np.ndarray, n: int) -> np.ndarray:
    a = formula(ei, n, loops=False, sym=False) > 0
    deg = a.sum(1)
    d = np.where(deg > 0, np.maximum(deg, 1) ** -0.5, 0.0)
    return d[:, None] * (a + np.eye(n)) * d[None, :]


def _diagnose(got: np.ndarray, ei: np.ndarray, n: int) -> str:
    slips = {
        "no self-loops: Â uses A + I, so each node keeps its own features":
            formula(ei, n, loops=False),
        "row-normalised D⁻¹(A + I) (a mean): the GCN uses the symmetric D^-1/2 (A + I) D^-1/2":
            formula(ei, n, sym=False),
        "the self-loop is in Â but not in the degrees: deg must count it (deg of A + I)":
            _loops_not_counted(ei, n),
    }
    for why, value in slips.items():
        if got.shape == value.shape and np.allclose(got, value, atol=TOL):
            return f" — {why}"
    return ""


@pytest.mark.parametrize("name", list(SMALL))
def test_normalisation_matches_the_formula(solution, name):
    edge_index, n = SMALL[name]
    before = edge_index.clone()
    got = dense(solution.gcn_norm_adj(edge_index, n))
    assert torch.equal(edge_index, before), "gcn_norm_adj changed the edge_index passed to it"
    assert got.shape == (n, n), f"Â of {name} has shape {tuple(got.shape)}, expected ({n}, {n})"
    assert got.dtype == torch.float32, f"Â must be float32, got {got.dtype}"
    want = formula(edge_index.numpy(), n)
    if not np.allclose(got.numpy(), want, atol=TOL, rtol=0):
        worst = np.unravel_index(np.abs(got.numpy() - want).argmax(), want.shape)
        shown, expected = expect.distinct(float(got.numpy()[worst]), float(want[worst]))
        pytest.fail(f"Â of {name}: entry {tuple(int(i) for i in worst)} is "
                    f"{shown}, D^-1/2 (A + I) D^-1/2 gives {expected}"
                    f"{_diagnose(got.numpy(), edge_index.numpy(), n)}", pytrace=False)


def test_normalisation_of_the_citation_graph(solution):
    g = load_citation_graph()
    got = dense(solution.gcn_norm_adj(g.edge_index, g.num_nodes)).numpy()
    want = formula(g.edge_index.numpy(), g.num_nodes)
    expect.close(got, want, what="Â of the citation graph", rtol=0, atol=TOL,
                 oracle="numpy closed form D^-1/2 (A + I) D^-1/2")


@pytest.mark.parametrize("graph,shape", [("citation", (800, 16)), ("citation", (16, 7)),
                                         ("a path 0-1-2-3 and an isolated node 4", (3, 4))])
def test_layer_matches_pyg_gcnconv(solution, graph, shape):
    if graph == "citation":
        g = load_citation_graph()
        edge_index, n = g.edge_index, g.num_nodes
    else:
        edge_index, n = SMALL[graph]
    gen = torch.Generator().manual_seed(sum(shape))
    x = (g.x if graph == "citation" and shape[0] == 800
         else torch.randn(n, shape[0], generator=gen))
    layer = solution.GCNLayer(*shape)
    assert isinstance(getattr(layer, "linear", None), torch.nn.Linear) and \
        layer.linear.bias is None and tuple(layer.linear.weight.shape) == shape[::-1], (
        f"GCNLayer{shape} must hold W as self.linear = nn.Linear({shape[0]}, {shape[1]}, "
        "bias=False)")
    assert tuple(getattr(layer, "bias", torch.empty(0)).shape) == (shape[1],), (
        f"GCNLayer{shape} must have a bias Parameter of shape ({shape[1]},)")
    oracle = GCNConv(*shape)
    with torch.no_grad():
        oracle.lin.weight.copy_(torch.randn(shape[::-1], generator=gen) * 0.3)
        oracle.bias.copy_(torch.randn(shape[1], generator=gen))
        layer.linear.weight.copy_(oracle.lin.weight)
        layer.bias.copy_(oracle.bias)
        want = oracle(x, edge_index)
        got = layer(x, dense(solution.gcn_norm_adj(edge_index, n)).to_sparse())
    assert tuple(got.shape) == (n, shape[1]), f"GCNLayer output has shape {tuple(got.shape)}"
    expect.close(got.numpy(), want.numpy(), what=f"GCNLayer{shape} on the {graph} graph",
                 rtol=0, atol=TOL, oracle="torch_geometric.nn.GCNConv, same weights")


def oracle_adj(g):
    a = torch.from_numpy(formula(g.edge_index.numpy(), g.num_nodes).astype(np.float32))
    return a.to_sparse()


def test_gcn_is_two_layers_with_relu(solution):
    g = load_citation_graph()
    torch.manual_seed(1)
    model = solution.GCN(g.num_features, 16, g.num_classes).eval()
    for name, shape in (("conv1", (800, 16)), ("conv2", (16, 7))):
        layer = getattr(model, name, None)
        assert isinstance(layer, solution.GCNLayer) and \
            tuple(layer.linear.weight.shape) == shape[::-1], (
            f"GCN.{name} must be a GCNLayer{shape}")
    adj = oracle_adj(g)
    with torch.no_grad():
        got = model(g.x, adj)
        want = model.conv2(F.relu(model.conv1(g.x, adj)), adj)
        again = model(g.x, adj)
    assert torch.equal(got, again), "GCN in eval mode gave two different outputs (dropout on?)"
    expect.close(got.numpy(), want.numpy(), what="GCN logits in eval mode", rtol=0, atol=TOL,
                 oracle="conv2(ReLU(conv1(x))) — a missing ReLU makes it one linear map")


def test_gcn_drops_out_the_hidden_layer_in_training_mode(solution):
    g = load_citation_graph()
    torch.manual_seed(1)
    model = solution.GCN(g.num_features, 16, g.num_classes, dropout=0.3).train()
    adj = oracle_adj(g)
    with torch.no_grad():
        torch.manual_seed(2)
        got = model(g.x, adj)
        torch.manual_seed(2)
        want = model.conv2(F.dropout(F.relu(model.conv1(g.x, adj)), 0.3, True), adj)
    expect.close(got.numpy(), want.numpy(), what="GCN(..., dropout=0.3) logits in training mode",
                 rtol=0, atol=TOL, oracle="conv2(F.dropout(ReLU(conv1(x)), 0.3, True)) with the "
                 "same torch seed: dropout with the given p, on the hidden layer only")


@pytest.fixture(scope="module")
def trained(solution):
    """Two runs with seed 0 on the graph whose non-training labels are shuffled."""
    g = load_citation_graph()
    perm = torch.randperm(g.num_nodes, generator=torch.Generator().manual_seed(7))
    y = torch.where(g.train_mask, g.y, g.y[perm])
    hidden = dataclasses.replace(g, y=y)
    snapshot = {f.name: getattr(hidden, f.name).clone() for f in dataclasses.fields(hidden)
                if isinstance(getattr(hidden, f.name), torch.Tensor)}
    start = time.process_time()
    first = solution.train_gcn(hidden, seed=0)
    seconds = time.process_time() - start
    second = solution.train_gcn(hidden, seed=0)
    changed = [k for k, v in snapshot.items() if not torch.equal(v, getattr(hidden, k))]
    return g, first, second, seconds, changed


def test_training_reaches_the_accuracy_threshold(trained, record_metric):
    g, model, _, seconds, changed = trained
    assert not changed, f"train_gcn changed the graph passed to it ({', '.join(changed)})"
    assert isinstance(model, torch.nn.Module), "train_gcn must return the trained GCN"
    assert not model.training, "train_gcn must return the model in eval mode (dropout off)"
    with torch.no_grad():
        pred = model(g.x, oracle_adj(g)).argmax(1)
    acc = float((pred[g.test_mask] == g.y[g.test_mask]).float().mean())
    train_acc = float((pred[g.train_mask] == g.y[g.train_mask]).float().mean())
    record_metric("training time", seconds, unit="s CPU")
    record_metric("test accuracy", acc * 100, unit="%", target=f">= {MIN_ACCURACY:.0%}",
                  verdict="PASS" if acc >= MIN_ACCURACY else "FAIL")
    hint = ""
    if train_acc < 0.8:  # trained on its 140 labels alone, a GCN fits them (> 95 %)
        hint = (" The training nodes themselves are barely fitted: the grader's graph has every "
                "label outside train_mask shuffled — were labels outside train_mask used in "
                "the loss?")
    assert acc >= MIN_ACCURACY, (
        f"the trained GCN classifies {acc:.1%} of the 1000 test nodes correctly (training "
        f"nodes: {train_acc:.1%}); the spec asks for ≥ {MIN_ACCURACY:.0%}.{hint}")


def replay(solution, graph, hidden, epochs, lr, weight_decay, seed):
    """The spec's recipe step by step, with the learner's GCN and the grader's Â."""
    torch.manual_seed(seed)
    model = solution.GCN(graph.num_features, hidden, graph.num_classes)
    adj = oracle_adj(graph)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    model.train()
    for _ in range(epochs):
        opt.zero_grad()
        F.cross_entropy(model(graph.x, adj)[graph.train_mask],
                        graph.y[graph.train_mask]).backward()
        opt.step()
    return model


def test_training_follows_the_recipe_and_its_arguments(solution):
    # non-default arguments, strong enough to show: a seed other than 0, weight decay large
    # enough to move the weights that get no gradient, a hidden size and step count of its own
    g = load_citation_graph()
    args = {"hidden": 8, "epochs": 3, "lr": 0.05, "weight_decay": 0.05, "seed": 1}
    got = solution.train_gcn(g, **args).state_dict()
    want = replay(solution, g, **args).state_dict()
    assert set(got) == set(want) and all(got[k].shape == want[k].shape for k in want), (
        f"train_gcn(hidden=8) must build GCN(num_features, 8, num_classes); its weights have "
        f"shapes {[tuple(v.shape) for v in got.values()]}")
    call = ", ".join(f"{k}={v}" for k, v in args.items())
    for k in want:
        expect.close(got[k].numpy(), want[k].numpy(), what=f"weight {k} after train_gcn({call})",
                     rtol=0, atol=1e-4, oracle="the spec's recipe replayed (torch.manual_seed("
                     "seed) first, Adam(lr, weight_decay), `epochs` steps on the training nodes)")


def test_training_is_seeded(trained):
    _, first, second, _, _ = trained
    a, b = first.state_dict(), second.state_dict()
    same = set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)
    assert same, ("two train_gcn runs with the same seed gave different weights: seed torch "
                  "(torch.manual_seed(seed)) before building the model")

"""Day 99 grader: message passing with sparse kernels. The learner's scatter aggregation
(sum, mean, max), CSR adjacency and GCN layer against per-edge numpy loops, dense adjacency
products and PyTorch Geometric (MessagePassing, GCNConv) on small edge-case graphs and the
citation graph; then the speed-up over the dense products on a 4000-node graph, measured in
the same run (interleaved rounds, one thread, thread CPU time)."""

import os
import sys
import time
import warnings

import numpy as np
import pytest
import torch
import torch._dynamo  # noqa: F401  (PyG imports it and it wraps torch.manual_seed;
from torch.overrides import TorchFunctionMode  # PyG swaps torch.index_select on import:
from torch_geometric.nn import GCNConv, MessagePassing  # both come before the grade, so

from graders import expect, forbid  # the module guard does not blame the solution)
from graders.data.citation_graph import load_citation_graph

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=UserWarning)  # torch.sparse's beta notes
__warningregistry__: dict = {}

AGGRS = ("sum", "mean", "max")
TOL = {torch.float32: 1e-5, torch.float64: 1e-10}  # rtol = atol
BENCH_FEATURES = 32

# small graphs: (edge_index as (sources, targets), number of nodes); edge j -> i is (j, i)
SMALL = {
    "a directed graph; node 4 has no incoming edge and node 5 appears in no edge":
        ([1, 2, 3, 0, 2, 4], [0, 0, 0, 1, 3, 3], 6),
    "a graph with duplicate edges (1 -> 0 three times, 2 -> 3 twice)":
        ([1, 1, 1, 2, 2, 3, 0], [0, 0, 0, 3, 3, 2, 2], 4),
    "a graph with self-loops (0 -> 0, 2 -> 2 twice) besides ordinary edges":
        ([0, 2, 2, 1, 0, 2], [0, 2, 2, 0, 1, 1], 3),
    "no edges at all (3 nodes)": ([], [], 3),
}


SMALL_IDS = ["directed", "duplicates", "self-loops", "no-edges"]  # short names for the verdict


def small(name):
    src, dst, n = SMALL[name]
    return torch.tensor([src, dst], dtype=torch.int64).reshape(2, -1), n


def features(n, f, seed, dtype=torch.float32):
    # mostly negative: a max that starts from the zeros of the output shows at once
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, f, generator=g, dtype=torch.float64) - 1.0).to(dtype)


def weights(e, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(e, generator=g, dtype=torch.float64) + 0.5).to(dtype)


# ---- oracles ------------------------------------------------------------------------------


def loop_oracle(x, edge_index, aggr, w=None, reverse=False, unique=False):
    """One message per edge, in numpy, float64 (reverse/unique: the usual slips)."""
    x = x.double().numpy()
    src, dst = edge_index.numpy()
    if reverse:
        src, dst = dst, src
    w = np.ones(len(src)) if w is None else w.double().numpy()
    if unique and len(src):
        _, first = np.unique(np.stack([src, dst]), axis=1, return_index=True)
        src, dst, w = src[first], dst[first], w[first]
    msg = x[src] * w[:, None]
    n, f = x.shape
    count = np.bincount(dst, minlength=n)
    if aggr == "max":
        out = np.full((n, f), -np.inf)
        np.maximum.at(out, dst, msg)
        out[count == 0] = 0.0
        return out
    out = np.zeros((n, f))
    np.add.at(out, dst, msg)
    return out / np.maximum(count, 1)[:, None] if aggr == "mean" else out


class PygAggregate(MessagePassing):
    """PyG's own scatter: out_i = AGG over edges j -> i of w_ji · x_j."""

    def __init__(self, aggr):
        super().__init__(aggr={"sum": "add"}.get(aggr, aggr))

    def forward(self, x, edge_index, w=None):
        return self.propagate(edge_index, x=x, w=w, size=(x.shape[0], x.shape[0]))

    def message(self, x_j, w):
        return x_j if w is None else w.view(-1, 1) * x_j


def dense_adjacency(edge_index, n, w=None, dtype=torch.float32):
    a = torch.zeros(n, n, dtype=dtype)
    w = torch.ones(edge_index.shape[1], dtype=dtype) if w is None else w.to(dtype)
    return a.index_put_((edge_index[1], edge_index[0]), w, accumulate=True)


def gcn_dense(edge_index, n, dtype=torch.float32):
    """Â = D^-1/2 (A' + I) D^-1/2, A' = A without its self-loops, dense (one N x N pass)."""
    keep = edge_index[0] != edge_index[1]
    loops = torch.arange(n)
    src = torch.cat([edge_index[0, keep], loops])
    dst = torch.cat([edge_index[1, keep], loops])
    d = torch.bincount(dst, minlength=n).to(dtype).pow(-0.5)
    return dense_adjacency(torch.stack([src, dst]), n, d[src] * d[dst], dtype=dtype)


def two_copies():
    """The benchmark graph: the citation graph twice, as two disjoint copies."""
    g = load_citation_graph()
    ei = torch.cat([g.edge_index, g.edge_index + g.num_nodes], 1)
    return ei, 2 * g.num_nodes


# ---- helpers ------------------------------------------------------------------------------


def snapshot(*tensors):
    return [t.clone() if isinstance(t, torch.Tensor) else t for t in tensors]


def assert_unchanged(before, after, fn, names):
    for name, a, b in zip(names, before, after, strict=True):
        if isinstance(a, torch.Tensor):
            same = a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)
            assert same, (f"{fn} modified its input `{name}`: work on new tensors (no in-place "
                          "operation on what you were given)")


def check_output(got, want, *, what, n, f, dtype, oracle, diagnose=lambda _got: ""):
    assert isinstance(got, torch.Tensor), f"{what} returned a {type(got).__name__}, not a Tensor"
    assert got.layout == torch.strided, f"{what} must return a dense (strided) tensor"
    assert tuple(got.shape) == (n, f), (
        f"{what} has shape {tuple(got.shape)}, expected ({n}, {f}): one row per node of x "
        "(x.shape[0]), nodes that no edge mentions included")
    assert got.dtype == dtype, f"{what} has dtype {got.dtype}: keep x's dtype ({dtype})"
    got_np = got.detach().double().numpy()
    want = np.asarray(want, dtype=np.float64)
    tol = TOL[dtype]
    if not np.allclose(got_np, want, rtol=tol, atol=tol, equal_nan=False):
        bad = ~np.isclose(got_np, want, rtol=tol, atol=tol)
        i, j = (int(k) for k in np.argwhere(bad)[0])
        shown, expected = expect.distinct(float(got_np[i, j]), float(want[i, j]))
        pytest.fail(f"{what}: node {i}, feature {j} is {shown}, {oracle} gives {expected} "
                    f"({int(bad.any(1).sum())} of {n} rows differ; tolerance rtol = atol = "
                    f"{tol:g}){diagnose(got_np)}", pytrace=False)


def aggregate_diagnosis(x, edge_index, aggr, w=None):
    def diagnose(got):
        if np.isnan(got).any():
            return (" — NaN in the output: a node without incoming edges divides by a count "
                    "of 0; its mean is 0 (clamp the count to at least 1)")
        slips = {
            "the messages flow the wrong way: an edge j -> i (edge_index[0] = j, "
            "edge_index[1] = i) carries x_j to node i, so gather at edge_index[0] and "
            "aggregate at edge_index[1]": loop_oracle(x, edge_index, aggr, w, reverse=True),
            "each duplicate edge counts once here, but every copy is one more message (sum "
            "adds it twice, mean counts it twice)":
                loop_oracle(x, edge_index, aggr, w, unique=True),
        }
        if aggr == "max":
            clamp = np.maximum(loop_oracle(x, edge_index, "max", w), 0.0)
            slips["negative maxima come out as 0: the max includes the zeros the output "
                  "started from (scatter_reduce_ with include_self=True); use "
                  "include_self=False — only nodes without incoming edges get 0"] = clamp
        for why, value in slips.items():
            if got.shape == value.shape and np.allclose(got, value, rtol=1e-5, atol=1e-5):
                return f" — {why}"
        return ""

    return diagnose


# ---- the rules ---------------------------------------------------------------------------


def test_pyg_is_not_used(solution_dir):
    forbid.assert_not_used(solution_dir, ["torch_geometric", "torch_scatter", "torch_sparse"],
                           why="PyG is the grader's oracle: write the kernels with torch")


@pytest.mark.parametrize("aggr", AGGRS)
@pytest.mark.parametrize("name", list(SMALL), ids=SMALL_IDS)
def test_scatter_aggregate_on_small_graphs(solution, name, aggr):
    edge_index, n = small(name)
    x = features(n, 3, seed=len(name))
    before = snapshot(x, edge_index)
    got = solution.scatter_aggregate(x, edge_index, aggr=aggr)
    assert_unchanged(before, (x, edge_index), "scatter_aggregate", ("x", "edge_index"))
    check_output(got, loop_oracle(x, edge_index, aggr), what=f"scatter_aggregate({aggr!r}) on "
                 f"{name}", n=n, f=3, dtype=torch.float32,
                 oracle="a per-edge loop (numpy)",
                 diagnose=aggregate_diagnosis(x, edge_index, aggr))


@pytest.mark.parametrize("aggr", AGGRS)
def test_scatter_aggregate_with_weights_in_float64(solution, aggr):
    name = "a graph with duplicate edges (1 -> 0 three times, 2 -> 3 twice)"
    edge_index, n = small(name)
    x = features(n, 4, seed=99, dtype=torch.float64)
    w = weights(edge_index.shape[1], seed=98, dtype=torch.float64)
    before = snapshot(x, edge_index, w)
    got = solution.scatter_aggregate(x, edge_index, aggr=aggr, edge_weight=w)
    assert_unchanged(before, (x, edge_index, w), "scatter_aggregate",
                     ("x", "edge_index", "edge_weight"))
    check_output(got, loop_oracle(x, edge_index, aggr, w),
                 what=f"scatter_aggregate({aggr!r}, edge_weight=...) in float64 on {name}",
                 n=n, f=4, dtype=torch.float64, oracle="a per-edge loop of w_ji · x_j (numpy)",
                 diagnose=aggregate_diagnosis(x, edge_index, aggr, w))


@pytest.mark.parametrize("aggr", ["min", "add", "avg", "SUM"])
def test_scatter_aggregate_rejects_other_aggregations(solution, aggr):
    edge_index, n = small("a directed graph; node 4 has no incoming edge and node 5 appears "
                          "in no edge")
    expect.raises(ValueError, solution.scatter_aggregate, features(n, 2, seed=1), edge_index,
                  aggr, what="scatter_aggregate", why=f"aggr={aggr!r} is not sum, mean or max")


class CountCalls(TorchFunctionMode):
    """Counts the torch functions and tensor methods called while it is active."""

    def __init__(self):
        super().__init__()
        self.n = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.n += 1
        return func(*args, **(kwargs or {}))


class CountLines:
    """Counts the lines of the solution's own files run while it is active: a loop over the
    nodes or edges on plain lists or numpy arrays makes no torch call but runs a line (or a
    comprehension step) per item."""

    def __init__(self, folder):
        self.folder = os.path.realpath(folder) + os.sep
        self.mine: dict = {}  # code object -> is it the solution's
        self.n = 0

    def _call(self, frame, event, arg):
        code = frame.f_code
        if code not in self.mine:
            self.mine[code] = os.path.realpath(code.co_filename).startswith(self.folder)
        return self._line if self.mine[code] else None

    def _line(self, frame, event, arg):
        if event == "line":
            self.n += 1
        return self._line

    def __enter__(self):
        self._before = sys.gettrace()
        sys.settrace(self._call)
        return self

    def __exit__(self, *exc):
        sys.settrace(self._before)


MAX_TORCH_CALLS = 500  # the reference makes 6-31; a loop over 2000 nodes makes thousands
MAX_OWN_LINES = 1000  # the reference runs ~10-25 of its lines per call


@pytest.mark.parametrize("fn", ["scatter_aggregate-sum", "scatter_aggregate-mean",
                                "scatter_aggregate-max", "csr_adjacency", "gcn_conv"])
def test_no_python_loop_over_nodes_or_edges(solution, solution_dir, fn):
    g = load_citation_graph()
    x = features(g.num_nodes, 4, seed=4)
    name, _, aggr = fn.partition("-")
    with CountLines(solution_dir) as lines, CountCalls() as count:
        if name == "scatter_aggregate":
            solution.scatter_aggregate(x, g.edge_index, aggr)
        elif name == "csr_adjacency":
            solution.csr_adjacency(g.edge_index, g.num_nodes)
        else:
            solution.gcn_conv(x, g.edge_index, torch.ones(3, 4), torch.zeros(3))
    call = f"{name}{f'({aggr!r})' if aggr else ''} on the citation graph ({g.num_nodes} " \
           f"nodes, {g.edge_index.shape[1]} edges)"
    assert count.n <= MAX_TORCH_CALLS, (
        f"{call} made {count.n} torch calls (at most {MAX_TORCH_CALLS} allowed): a Python loop "
        "over the nodes or edges — gather, index_add_ and scatter_reduce_ handle every edge "
        "in one call")
    assert lines.n <= MAX_OWN_LINES, (
        f"{call} ran {lines.n} lines of your code (at most {MAX_OWN_LINES} allowed): a Python "
        "loop over the nodes or edges, on lists or numpy arrays — one torch call (gather, "
        "index_add_, scatter_reduce_, coalesce) handles every edge")


@pytest.fixture(scope="module")
def citation():
    g = load_citation_graph()
    return g, features(g.num_nodes, 16, seed=99), weights(g.edge_index.shape[1], seed=98)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("aggr", AGGRS)
def test_scatter_aggregate_matches_pyg_on_the_citation_graph(solution, citation, aggr,
                                                              weighted):
    g, h, w = citation
    w = w if weighted else None
    got = solution.scatter_aggregate(h, g.edge_index, aggr=aggr, edge_weight=w)
    with torch.no_grad():
        want = PygAggregate(aggr)(h, g.edge_index, w)
    what = f"scatter_aggregate({aggr!r}{', edge_weight=w' if weighted else ''}) on the " \
           "citation graph (2000 x 16)"
    check_output(got, want.double().numpy(), what=what, n=g.num_nodes, f=16,
                 dtype=torch.float32, oracle=f"PyG MessagePassing(aggr={aggr!r})",
                 diagnose=aggregate_diagnosis(h, g.edge_index, aggr, w))
    if aggr == "sum":
        dense = dense_adjacency(g.edge_index, g.num_nodes, w, dtype=torch.float64) @ h.double()
        check_output(got, dense.numpy(), what=what, n=g.num_nodes, f=16, dtype=torch.float32,
                     oracle="the dense product A @ x (A[i, j] = total weight of j -> i)")


# ---- CSR adjacency -------------------------------------------------------------------------


def oracle_csr(edge_index, n, w=None):
    w = torch.ones(edge_index.shape[1]) if w is None else w
    coo = torch.sparse_coo_tensor(edge_index.flip(0), w, (n, n)).coalesce()
    return coo.to_sparse_csr()


CSR_CASES = [*SMALL, "the citation graph, weighted (float64)"]


@pytest.mark.parametrize("name", CSR_CASES, ids=[*SMALL_IDS, "citation-f64"])
def test_csr_adjacency(solution, name):
    if name in SMALL:
        edge_index, n = small(name)
        w = None
    else:
        g = load_citation_graph()
        edge_index, n = g.edge_index, g.num_nodes
        w = weights(edge_index.shape[1], seed=97, dtype=torch.float64)
    dtype = torch.float32 if w is None else w.dtype
    before = snapshot(edge_index, w)
    got = solution.csr_adjacency(edge_index, n, edge_weight=w)
    assert_unchanged(before, (edge_index, w), "csr_adjacency", ("edge_index", "edge_weight"))
    what = f"csr_adjacency of {name}"
    assert isinstance(got, torch.Tensor) and got.layout == torch.sparse_csr, (
        f"{what} must be a torch sparse CSR tensor (layout torch.sparse_csr), got "
        f"{getattr(got, 'layout', type(got).__name__)}")
    assert tuple(got.shape) == (n, n), f"{what} has shape {tuple(got.shape)}, expected ({n}, {n})"
    assert got.dtype == dtype, f"{what} has dtype {got.dtype}, expected {dtype}"
    want = oracle_csr(edge_index, n, w)
    got_dense, want_dense = got.to_dense(), want.to_dense()
    if not torch.allclose(got_dense, want_dense, rtol=TOL[dtype], atol=TOL[dtype]):
        hint = ""
        if torch.allclose(got_dense, want_dense.T, rtol=TOL[dtype], atol=TOL[dtype]):
            hint = (" — it is the transpose: row i holds the edges arriving at i (row = "
                    "edge_index[1], the target; column = edge_index[0], the source), so that "
                    "A @ x sums the messages each node receives")
        elif torch.equal(got_dense != 0, want_dense != 0):
            hint = (" — the right entries with the wrong values: a duplicate edge j -> i "
                    "adds up (A[i, j] = 2 for two copies; with weights, their sum)")
        i, j = (int(k) for k in torch.argwhere(~torch.isclose(got_dense, want_dense))[0])
        pytest.fail(f"{what}: A[{i}, {j}] = {float(got_dense[i, j]):.6g}, expected "
                    f"{float(want_dense[i, j]):.6g}{hint}", pytrace=False)
    crow, col = got.crow_indices(), got.col_indices()
    assert crow.dtype == col.dtype == torch.int64, "crow and col indices must be int64"
    if not (torch.equal(crow, want.crow_indices()) and torch.equal(col, want.col_indices())):
        stored, expected = col.numel(), want.col_indices().numel()
        why = (f"{stored} stored entries, expected {expected}" if stored != expected else
               "the right entries in another order")
        pytest.fail(f"{what}: {why} — every (row, column) pair is stored once (duplicate edges "
                    "summed into one entry), columns sorted within each row: coalesce before "
                    "converting to CSR", pytrace=False)


def test_csr_adjacency_spmm_is_message_passing(solution, citation):
    g, h, w = citation
    adj = solution.csr_adjacency(g.edge_index, g.num_nodes, edge_weight=w)
    with torch.no_grad():
        want = PygAggregate("sum")(h, g.edge_index, w)
    check_output(adj @ h, want.double().numpy(),
                 what="csr_adjacency(citation graph, w) @ x", n=g.num_nodes, f=16,
                 dtype=torch.float32, oracle="PyG MessagePassing(aggr='sum')")


# ---- GCN layer -----------------------------------------------------------------------------


def gcn_diagnosis(x, edge_index, n, weight, bias):
    def variant(loops_kept=False, out_degree=False, normalise=True):
        keep = edge_index[0] != edge_index[1]
        ei = edge_index if loops_kept else edge_index[:, keep]
        a = dense_adjacency(ei, n, dtype=torch.float64) + torch.eye(n, dtype=torch.float64)
        deg = a.sum(0) if out_degree else a.sum(1)
        d = deg.pow(-0.5) if normalise else torch.ones(n, dtype=torch.float64)
        out = d[:, None] * a * d[None, :] @ (x.double() @ weight.double().T)
        return (out if bias is None else out + bias.double()).numpy()

    def diagnose(got):
        slips = {
            "the input's own self-loops are kept and one more is added: GCNConv replaces "
            "them, so every node has exactly one self-loop of weight 1": variant(True),
            "the degrees count edges leaving each node: use the in-degree (edges arriving, "
            "edge_index[1]) of A + I": variant(out_degree=True),
            "no normalisation: Â is D^-1/2 (A + I) D^-1/2, not A + I": variant(normalise=False),
        }
        for why, value in slips.items():
            if got.shape == value.shape and np.allclose(got, value, rtol=1e-5, atol=1e-5):
                return f" — {why}"
        return ""

    return diagnose


GCN_CASES = [
    ("a directed graph; node 4 has no incoming edge and node 5 appears in no edge",
     torch.float32, True),
    ("a graph with duplicate edges (1 -> 0 three times, 2 -> 3 twice)", torch.float64, True),
    ("a graph with self-loops (0 -> 0, 2 -> 2 twice) besides ordinary edges", torch.float32,
     True),
    ("no edges at all (3 nodes)", torch.float64, False),
    ("the citation graph (800 -> 16, g.x)", torch.float32, True),
]


@pytest.mark.parametrize("name,dtype,with_bias", GCN_CASES,
                         ids=["directed", "duplicates-f64", "self-loops", "no-edges-no-bias",
                              "citation"])
def test_gcn_conv_matches_pyg(solution, name, dtype, with_bias):
    gen = torch.Generator().manual_seed(7)
    if name in SMALL:
        edge_index, n = small(name)
        x, f_in, f_out = features(n, 5, seed=5, dtype=dtype), 5, 3
    else:
        g = load_citation_graph()
        edge_index, n, x, f_in, f_out = g.edge_index, g.num_nodes, g.x, 800, 16
    oracle = GCNConv(f_in, f_out, bias=with_bias).to(dtype)
    with torch.no_grad():
        oracle.lin.weight.copy_(torch.randn(f_out, f_in, generator=gen) * 0.3)
        if with_bias:
            oracle.bias.copy_(torch.randn(f_out, generator=gen))
        want = oracle(x, edge_index)
    weight = oracle.lin.weight.detach().clone()
    bias = oracle.bias.detach().clone() if with_bias else None
    before = snapshot(x, edge_index, weight, bias)
    got = solution.gcn_conv(x, edge_index, weight, bias)
    assert_unchanged(before, (x, edge_index, weight, bias), "gcn_conv",
                     ("x", "edge_index", "weight", "bias"))
    check_output(got, want.double().numpy(),
                 what=f"gcn_conv on {name}" + ("" if with_bias else " (bias=None)"),
                 n=n, f=f_out, dtype=dtype,
                 oracle="PyG GCNConv with the same weight" + (" and bias" if with_bias else ""),
                 diagnose=gcn_diagnosis(x, edge_index, n, weight, bias))
    if name in SMALL:
        dense = gcn_dense(edge_index, n, torch.float64) @ (x.double() @ weight.double().T)
        check_output(got, (dense if bias is None else dense + bias.double()).numpy(),
                     what=f"gcn_conv on {name}", n=n, f=f_out, dtype=dtype,
                     oracle="the dense Â @ (x Wᵀ) + b")


# ---- cost in edges -------------------------------------------------------------------------

HUGE = 1_000_000  # nodes: an N x N float32 matrix would need 4 TB, so it fails at once
HUGE_EDGES = torch.tensor([[0, 1, 2, 999_999, 500_000, 3], [1, 0, 999_999, 2, 3, 3]])


@pytest.mark.parametrize("fn", ["scatter_aggregate", "csr_adjacency", "gcn_conv"])
def test_cost_scales_with_edges_not_nodes_squared(solution, fn):
    x = features(HUGE, 2, seed=3)
    weight, bias = torch.tensor([[0.5, -1.0], [2.0, 0.25]]), torch.tensor([0.1, -0.2])
    calls = {
        "scatter_aggregate": lambda: solution.scatter_aggregate(x, HUGE_EDGES, "mean"),
        "csr_adjacency": lambda: solution.csr_adjacency(HUGE_EDGES, HUGE),
        "gcn_conv": lambda: solution.gcn_conv(x, HUGE_EDGES, weight, bias),
    }
    try:
        got = calls[fn]()
    except (RuntimeError, MemoryError) as e:
        pytest.fail(f"{fn} on a graph of {HUGE:,} nodes and {HUGE_EDGES.shape[1]} edges failed "
                    f"({type(e).__name__}: {str(e)[:120]}): its cost must scale with the number "
                    "of edges — no N x N matrix, dense or converted", pytrace=False)
    if fn == "csr_adjacency":
        assert got.layout == torch.sparse_csr and got._nnz() == 6, (
            f"csr_adjacency on {HUGE:,} nodes: expected a sparse CSR tensor with 6 entries")
        return
    with torch.no_grad():
        if fn == "gcn_conv":
            oracle = GCNConv(2, 2)
            oracle.lin.weight.copy_(weight)
            oracle.bias.copy_(bias)
            want = oracle(x, HUGE_EDGES)
        else:
            want = PygAggregate("mean")(x, HUGE_EDGES)
    check_output(got, want.double().numpy(), what=f"{fn} on {HUGE:,} nodes", n=HUGE, f=2,
                 dtype=torch.float32, oracle="PyG")


# ---- speed ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big():
    edge_index, n = two_copies()
    x = features(n, BENCH_FEATURES, seed=99)
    return edge_index, n, x


def test_scatter_speedup_over_dense(solution, big, bench, record_metric):
    edge_index, n, x = big
    a = dense_adjacency(edge_index, n)  # built once: the dense side pays only its product
    got = solution.scatter_aggregate(x, edge_index, aggr="sum")
    with torch.no_grad():
        want = PygAggregate("sum")(x, edge_index)
    check_output(got, want.double().numpy(), what="scatter_aggregate('sum') on the "
                 f"{n}-node benchmark graph", n=n, f=BENCH_FEATURES, dtype=torch.float32,
                 oracle="PyG MessagePassing(aggr='sum')")
    record_metric("benchmark graph", n, unit="nodes")
    record_metric("benchmark edges", edge_index.shape[1], unit="edges")
    c = bench.compare(torch.mm, solution.scatter_aggregate, a, x,
                      candidate_args=(x, edge_index, "sum"), threads=1, timer=time.thread_time,
                      min_time_s=0.3, max_time_s=0.6, name=f"scatter_aggregate('sum') vs dense "
                      f"A @ x, {n} nodes, {edge_index.shape[1]} edges, {BENCH_FEATURES} features")
    bench.check(c, "scatter_speedup")


def test_gcn_speedup_over_dense(solution, big, bench):
    edge_index, n, x = big
    gen = torch.Generator().manual_seed(8)
    weight = torch.randn(BENCH_FEATURES, BENCH_FEATURES, generator=gen) * 0.3
    bias = torch.randn(BENCH_FEATURES, generator=gen)
    a_hat = gcn_dense(edge_index, n)  # the dense Â, normalised once, outside the timing

    def dense(x):
        return torch.addmm(bias, a_hat, x @ weight.T)

    got = solution.gcn_conv(x, edge_index, weight, bias)
    check_output(got, dense(x).double().numpy(), what=f"gcn_conv on the {n}-node benchmark "
                 "graph", n=n, f=BENCH_FEATURES, dtype=torch.float32,
                 oracle="the dense Â @ (x Wᵀ) + b (float32)")
    c = bench.compare(dense, solution.gcn_conv, x, candidate_args=(x, edge_index, weight, bias),
                      threads=1, timer=time.thread_time, min_time_s=0.3, max_time_s=0.6,
                      name=f"gcn_conv vs dense Â @ (x Wᵀ) + b, {n} nodes, "
                      f"{edge_index.shape[1]} edges, {BENCH_FEATURES} features")
    bench.check(c, "gcn_speedup")

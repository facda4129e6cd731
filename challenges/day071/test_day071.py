"""Day 71 grader: the learner's COO and CSR formats against torch.sparse's (and scipy.sparse's)
own conversions, sparse × dense products against the dense product, and the speed-up of the
CSR product over dense torch.mm at 99 % sparsity, measured in the same run."""

import ast
import warnings

import pytest
import scipy.sparse
import torch

from graders import expect, forbid

torch.set_num_threads(1)
# torch's CSR layout warns that it is in beta; warnings record themselves in this module's
# registry, which exists from the start so that is not taken for a change
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
__warningregistry__: dict = {}
BANNED = ["torch.sparse", "torch.sparse_coo_tensor", "torch.sparse_csr_tensor", "scipy.sparse"]
RUNTIME_BANNED = ("torch.sparse.mm", "torch.sparse_coo_tensor", "torch.sparse_csr_tensor")
BANNED_METHODS = ("to_sparse", "to_sparse_csr", "to_sparse_coo")
TOL = {torch.float32: (1e-5, 1e-5), torch.float64: (1e-12, 1e-12)}
BENCH_N, BENCH_K, BENCH_DENSITY = 2048, 8, 0.01


def sparse_matrix(rows, cols, density, seed, dtype=torch.float32, empty_rows=()):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(rows, cols, generator=g, dtype=torch.float64)
    A = A * (torch.rand(rows, cols, generator=g, dtype=torch.float64) < density)
    A[list(empty_rows)] = 0
    return A.to(dtype)


def test_no_library_sparse_formats(solution_dir):
    forbid.assert_not_used(solution_dir, BANNED,
                           why="build the formats and the products from plain tensors")
    # methods are reached through any tensor, not an import: look for the attribute names
    for path in sorted(solution_dir.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        used = sorted({node.attr for node in ast.walk(tree)
                       if isinstance(node, ast.Attribute) and node.attr in BANNED_METHODS})
        assert not used, (f"{path.name} uses Tensor.{', Tensor.'.join(used)}: the spec forbids "
                          "torch's own sparse conversions — build the formats yourself")


CASES = {
    "7x5 float32, 40% dense": dict(rows=7, cols=5, density=0.4, seed=1),
    "6x9 float64, rows 0, 4 and 5 empty": dict(rows=6, cols=9, density=0.5, seed=2,
                                               dtype=torch.float64, empty_rows=(0, 4, 5)),
    "3x4 all zero": dict(rows=3, cols=4, density=0.0, seed=3),
    "1x1 non-zero": dict(rows=1, cols=1, density=1.0, seed=4),
}


@pytest.mark.parametrize("case", list(CASES))
def test_coo_from_dense_matches_torch(solution, case):
    A = sparse_matrix(**CASES[case])
    ref = A.to_sparse().coalesce()
    given = A.clone()
    with forbid.calls(*RUNTIME_BANNED):
        indices, values = solution.coo_from_dense(given)
    assert torch.equal(given, A), f"coo_from_dense({case}) modified A"
    assert indices.dtype == torch.int64 and tuple(indices.shape) == tuple(ref.indices().shape), (
        f"coo_from_dense({case}): indices must be int64 of shape (2, nnz) = "
        f"{tuple(ref.indices().shape)}, got {indices.dtype} {tuple(indices.shape)}")
    assert torch.equal(indices, ref.indices()), (
        f"coo_from_dense({case}): the indices differ from A.to_sparse()'s — row-major order "
        "(by row, then by column), one column per non-zero")
    assert values.dtype == A.dtype and torch.equal(values, ref.values()), (
        f"coo_from_dense({case}): the values must be A's non-zeros in the same order, dtype "
        f"{A.dtype} (got {values.dtype})")


@pytest.mark.parametrize("case", list(CASES))
def test_csr_from_shuffled_coo_matches_torch_and_scipy(solution, case):
    A = sparse_matrix(**CASES[case])
    ref = A.to_sparse_csr()
    idx = A.to_sparse().coalesce().indices()
    vals = A[idx[0], idx[1]]
    perm = torch.randperm(idx.shape[1], generator=torch.Generator().manual_seed(71))
    given = (idx[:, perm].clone(), vals[perm].clone())
    with forbid.calls(*RUNTIME_BANNED):
        crow, col, values = solution.csr_from_coo(*given, tuple(A.shape))
    assert torch.equal(given[0], idx[:, perm]) and torch.equal(given[1], vals[perm]), (
        f"csr_from_coo({case}) modified its input COO arrays (sort copies, not the inputs)")
    sp = scipy.sparse.coo_matrix((vals.numpy(), (idx[0].numpy(), idx[1].numpy())),
                                 shape=tuple(A.shape)).tocsr()
    sp.sort_indices()
    assert crow.dtype == torch.int64 and col.dtype == torch.int64, (
        f"csr_from_coo({case}): crow and col must be int64, got {crow.dtype}, {col.dtype}")
    assert crow.tolist() == sp.indptr.tolist() == ref.crow_indices().tolist(), (
        f"csr_from_coo({case}): crow = {crow.tolist()}, expected {sp.indptr.tolist()} (length "
        "rows + 1, crow[i+1] − crow[i] non-zeros in row i; empty rows repeat a value)")
    assert torch.equal(col, ref.col_indices()), (
        f"csr_from_coo({case}): the column indices differ from torch's CSR — the input COO is "
        "shuffled: sort the entries by row, then by column")
    assert values.dtype == A.dtype and torch.equal(values, ref.values()), (
        f"csr_from_coo({case}): the values must follow the same row-major order, dtype "
        f"{A.dtype}")


MATMUL = {
    "50x40 @ 40x7 float32, 10% dense": (dict(rows=50, cols=40, density=0.1, seed=5), 7,
                                        torch.float32),
    "30x20 @ 20x3 float64, rows 3, 7 and 29 empty": (
        dict(rows=30, cols=20, density=0.2, seed=6, dtype=torch.float64,
             empty_rows=(3, 7, 29)), 3, torch.float64),
    "4x6 @ 6x2 all zero": (dict(rows=4, cols=6, density=0.0, seed=7), 2, torch.float32),
    "20x10 float32 values @ 10x3 float64": (dict(rows=20, cols=10, density=0.3, seed=10), 3,
                                            torch.float64),
}


@pytest.mark.parametrize("fmt", ["csr", "coo"])
@pytest.mark.parametrize("case", list(MATMUL))
def test_sparse_times_dense_equals_dense_product(solution, case, fmt):
    spec, k, dtype = MATMUL[case]
    A = sparse_matrix(**spec)
    B = torch.randn(A.shape[1], k, generator=torch.Generator().manual_seed(8), dtype=dtype)
    coo = A.to_sparse().coalesce()
    csr = A.to_sparse_csr()
    want = A.double() @ B.double()
    oracle = torch.sparse.mm(coo.double(), B.double())
    assert torch.allclose(want, oracle), "grader: dense and torch.sparse products disagree"
    if fmt == "csr":
        fn, args = solution.csr_matmul, (csr.crow_indices(), csr.col_indices(), csr.values())
    else:
        fn, args = solution.coo_matmul, (coo.indices(), coo.values())
    given = [a.clone() for a in (*args, B)]
    with forbid.calls(*RUNTIME_BANNED):
        got = fn(*args, tuple(A.shape), B)
    what = f"{fmt}_matmul({case})"
    assert all(torch.equal(a, b) for a, b in zip((*args, B), given, strict=True)), (
        f"{what} modified its inputs")
    assert isinstance(got, torch.Tensor) and got.layout == torch.strided, (
        f"{what} must return a dense (strided) torch tensor")
    assert got.dtype == dtype, f"{what} returned {got.dtype}; the result has B's dtype {dtype}"
    rtol, atol = TOL[dtype]
    expect.close(got.double().numpy(), want.numpy(), what=what, rtol=rtol, atol=atol,
                 oracle="the dense product A @ B (and torch.sparse.mm)")


@pytest.mark.parametrize("fmt", ["csr", "coo"])
@pytest.mark.parametrize("b_shape", [(4, 3), (5,)])
def test_shape_mismatch_raises(solution, fmt, b_shape):
    A = sparse_matrix(rows=4, cols=5, density=0.5, seed=9)
    B = torch.zeros(*b_shape)
    coo, csr = A.to_sparse().coalesce(), A.to_sparse_csr()
    if fmt == "csr":
        args = (csr.crow_indices(), csr.col_indices(), csr.values(), (4, 5), B)
        fn = solution.csr_matmul
    else:
        args, fn = (coo.indices(), coo.values(), (4, 5), B), solution.coo_matmul
    expect.raises(ValueError, fn, *args, what=f"{fmt}_matmul",
                  why=f"a 4x5 matrix times a tensor of shape {b_shape}")


def test_csr_speedup_at_99_percent_sparsity(solution, bench, record_metric):
    A = sparse_matrix(BENCH_N, BENCH_N, BENCH_DENSITY, seed=71)
    B = torch.randn(BENCH_N, BENCH_K, generator=torch.Generator().manual_seed(72))
    idx = A.to_sparse().coalesce().indices()
    csr = A.to_sparse_csr()
    crow, col, vals = csr.crow_indices(), csr.col_indices(), csr.values()
    nnz = idx.shape[1]
    record_metric("sparsity", 100 * (1 - nnz / A.numel()), unit="%")
    with forbid.calls(*RUNTIME_BANNED):
        got = solution.csr_matmul(crow, col, vals, tuple(A.shape), B)
        expect.close(got.double().numpy(), (A.double() @ B.double()).numpy(),
                     what=f"csr_matmul at 99% sparsity ({BENCH_N}x{BENCH_N} @ {BENCH_N}x"
                     f"{BENCH_K})", rtol=1e-4, atol=1e-4, oracle="the dense product")
        c = bench.compare(torch.mm, solution.csr_matmul, A, B,
                          candidate_args=(crow, col, vals, tuple(A.shape), B), threads=1,
                          name=f"csr_matmul vs dense torch.mm, {BENCH_N}x{BENCH_N} at 99% "
                          f"sparsity @ {BENCH_N}x{BENCH_K}")
    bench.check(c, "sparse_speedup")


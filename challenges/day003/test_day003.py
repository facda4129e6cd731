"""Day 3 grader: power iteration, symmetric eigendecomposition, SVD and rank-k compression,
checked against numpy and against the Eckart–Young optimum."""

from functools import cache

import numpy as np
import pytest
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_limits

from graders import expect, forbid

# Small matrices: one BLAS thread is as fast, and steady when the machine is shared.
threadpool_limits(1)

BANNED = ["numpy.linalg.eig", "numpy.linalg.eigh", "numpy.linalg.eigvals",
          "numpy.linalg.eigvalsh", "numpy.linalg.svd", "numpy.linalg.svdvals",
          "numpy.linalg.pinv", "numpy.linalg.matrix_rank", "scipy", "sklearn.decomposition",
          "sklearn.utils", "torch"]
RUNTIME_BANNED = ["numpy.linalg.eig", "numpy.linalg.eigh", "numpy.linalg.eigvals",
                  "numpy.linalg.eigvalsh", "numpy.linalg.svd", "numpy.linalg.pinv",
                  "scipy.linalg.eigh", "scipy.linalg.svd"]
TOL = 1e-9  # relative to the matrix's largest |eigenvalue| or singular value


def run(fn, *args, what):
    """Call the learner's function with the forbidden routines disabled; check args unchanged."""
    copies = [np.array(a, copy=True) for a in args]
    with forbid.calls(*RUNTIME_BANNED):
        result = fn(*args)
    for before, after in zip(copies, args, strict=False):
        assert np.array_equal(before, after), f"{what} modified its input; work on a copy"
    return result


def with_eigenvalues(values, seed):
    """A symmetric matrix Q·diag(values)·Qᵀ with a random orthogonal Q."""
    values = np.asarray(values, dtype=float)
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((len(values),) * 2))
    A = Q @ np.diag(values) @ Q.T
    return (A + A.T) / 2


def with_singular_values(m, n, values, seed):
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((m, len(values))))
    V, _ = np.linalg.qr(rng.standard_normal((n, len(values))))
    return U @ np.diag(values) @ V.T


@cache
def _mosaic():
    images = load_digits().images
    return np.block([[images[12 * r + c] for c in range(12)] for r in range(8)])


def digit_mosaic():
    """The grader's image: 96 handwritten digits from load_digits, 8 rows of 12 (64×96 pixels)."""
    return _mosaic().copy()


def pair(result, what, names):
    assert isinstance(result, tuple) and len(result) == len(names), (
        f"{what} must return a tuple ({', '.join(names)})")
    return result


def test_forbidden_routines_are_not_used(solution_dir):
    forbid.assert_not_used(solution_dir, BANNED,
                           why="compute eigenvalues and singular values yourself")


# ---- power iteration ----------------------------------------------------------------------

POWER_CASES = {
    "a 5x5 matrix with dominant eigenvalue 6": ([6, 3, -2, 1, 0.5], 1),
    "a 4x4 matrix with dominant eigenvalue -5": ([-5, 3, 2, 1], 2),
    "a 40x40 matrix with eigenvalues 10*0.8^i": (10 * 0.8 ** np.arange(40), 3),
}


@pytest.mark.parametrize("label", POWER_CASES)
def test_power_iteration_finds_the_dominant_eigenpair(solution, label):
    values, seed = POWER_CASES[label]
    A = with_eigenvalues(values, seed)
    lam, v = pair(run(solution.power_iteration, A, what="power_iteration"), "power_iteration",
                  ["lam", "v"])
    expect.close(lam, values[0], what=f"power_iteration's eigenvalue for {label}", rtol=1e-8,
                 atol=0, oracle="the construction")
    v = expect.array(v, "power_iteration")
    assert v.shape == (len(values),), f"v has shape {v.shape}, expected {(len(values),)}"
    assert abs(np.linalg.norm(v) - 1) <= 1e-8, (
        f"v must have unit length, has {np.linalg.norm(v):.6g}")
    residual = np.linalg.norm(A @ v - values[0] * v) / np.linalg.norm(A)
    assert residual <= 1e-6, (
        f"for {label}, ‖A·v − λ·v‖ = {residual:.1e}·‖A‖: v is not the dominant eigenvector")


# ---- symmetric eigendecomposition ---------------------------------------------------------

EIGH_CASES = {
    "a 1x1 matrix": (np.array([[2.5]]), ""),
    "the diagonal matrix diag(1, 5, -2)": (np.diag([1.0, 5.0, -2.0]), ""),
    "a 5x5 matrix with eigenvalues 9, 4, 2, -1, 0.5": (with_eigenvalues([9, 4, 2, -1, 0.5], 4), ""),
    "a 30x30 matrix with eigenvalues +-10^(-i/15)": (
        with_eigenvalues(10 ** (-np.arange(30) / 15) * (-1) ** np.arange(30), 5), ""),
    "a 4x4 matrix with eigenvalues 3, -3, 1, 0.5": (
        with_eigenvalues([3, -3, 1, 0.5], 6),
        " (3 and -3 have the same magnitude: unshifted QR iteration cannot separate them; "
        "use a shift)"),
    "a 20x20 random symmetric matrix": (
        (lambda G: (G + G.T) / 2)(np.random.default_rng(7).standard_normal((20, 20))),
        " (it has close eigenvalues: use a shift or Jacobi rotations)"),
    "a 6x6 matrix with the eigenvalue 2 repeated": (with_eigenvalues([2, 2, 2, 1, -1, 0], 8), ""),
}


@pytest.mark.parametrize("label", EIGH_CASES)
def test_eigh_matches_numpy(solution, label):
    A, note = EIGH_CASES[label]
    n = A.shape[0]
    w, V = pair(run(solution.eigh, A, what="eigh"), "eigh", ["w", "V"])
    w, V = expect.array(w, "eigh"), expect.array(V, "eigh")
    assert w.shape == (n,) and V.shape == (n, n), (
        f"eigh of {label} returned w {w.shape} and V {V.shape}; expected {(n,)} and {(n, n)}")
    want = np.linalg.eigvalsh(A)[::-1]  # descending
    scale = np.abs(want).max()
    if (np.allclose(np.sort(w), np.sort(want), rtol=0, atol=TOL * scale)
            and not np.allclose(w, want, rtol=0, atol=TOL * scale)):
        raise AssertionError(f"eigh of {label}: right eigenvalues in the wrong order; the spec "
                             f"asks for descending order (largest first), got {np.round(w, 4)}")
    expect.close(w, want, what=f"eigenvalues of {label}{note}", rtol=0, atol=TOL * scale,
                 oracle="numpy.linalg.eigvalsh")
    orth = np.abs(V.T @ V - np.eye(n)).max()
    assert orth <= 1e-8, (
        f"eigh of {label}: the columns of V are not orthonormal (|VᵀV − I| = {orth:.1e})")
    residual = np.abs(A @ V - V * w).max() / scale
    assert residual <= 1e-8, (
        f"eigh of {label}: A·V ≠ V·diag(w) (relative error {residual:.1e}); column i of V "
        "must be the eigenvector of w[i]")


@pytest.mark.parametrize("A,why", [
    (np.array([[1.0, 2.0], [0.0, 1.0]]), "a non-symmetric matrix"),
    (np.ones((2, 3)), "a 2x3 matrix"),
], ids=["non-symmetric", "non-square"])
def test_eigh_and_power_iteration_reject_what_they_cannot_do(solution, A, why):
    expect.raises(ValueError, solution.eigh, A, what="eigh", why=why)
    expect.raises(ValueError, solution.power_iteration, A, what="power_iteration", why=why)


# ---- SVD ----------------------------------------------------------------------------------

SVD_CASES = {
    (5, 3): np.geomspace(10, 0.5, 3), (3, 5): np.geomspace(8, 1, 3),
    (8, 8): np.geomspace(10, 0.1, 8), (40, 12): np.geomspace(10, 0.2, 12),
    (12, 40): np.geomspace(5, 0.1, 12), (1, 4): np.array([3.0]), (4, 1): np.array([2.0]),
}


def check_svd(solution, A, label):
    m, n = A.shape
    r = min(m, n)
    U, s, Vt = (expect.array(x, "svd") for x in pair(run(solution.svd, A, what="svd"), "svd",
                                                      ["U", "s", "Vt"]))
    assert U.shape == (m, r) and s.shape == (r,) and Vt.shape == (r, n), (
        f"svd of {label} returned U {U.shape}, s {s.shape}, Vt {Vt.shape}; the thin SVD has "
        f"U {(m, r)}, s {(r,)}, Vt {(r, n)}")
    want = np.linalg.svd(A, compute_uv=False)
    scale = want[0]
    expect.close(s, want, what=f"singular values of {label}", rtol=0, atol=TOL * scale,
                 oracle="numpy.linalg.svd")
    orth_u = np.abs(U.T @ U - np.eye(r)).max()
    assert orth_u <= 1e-8, (
        f"svd of {label}: the columns of U are not orthonormal (|UᵀU − I| = {orth_u:.1e}); "
        "u_i = A·v_i / s_i")
    orth_v = np.abs(Vt @ Vt.T - np.eye(r)).max()
    assert orth_v <= 1e-8, f"svd of {label}: the rows of Vt are not orthonormal ({orth_v:.1e})"
    residual = np.abs((U * s) @ Vt - A).max() / scale
    assert residual <= 1e-8, (
        f"svd of {label}: U·diag(s)·Vt differs from A (relative error {residual:.1e}); "
        "return Vᵀ (rows are right singular vectors), not V")


@pytest.mark.parametrize("shape", SVD_CASES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_svd_matches_numpy(solution, shape):
    A = with_singular_values(*shape, SVD_CASES[shape], seed=shape[0] * 100 + shape[1])
    check_svd(solution, A, f"a {shape[0]}x{shape[1]} matrix")


def test_svd_of_a_random_matrix(solution):
    check_svd(solution, np.random.default_rng(9).standard_normal((20, 15)),
              "a random 20x15 matrix")


# ---- rank-k compression -------------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 5, 20, 64])
def test_low_rank_reaches_the_eckart_young_optimum(solution, k, record_metric):
    X = digit_mosaic()
    Y = expect.array(run(solution.low_rank, X, k, what="low_rank"), "low_rank")
    assert Y.shape == X.shape, f"low_rank(image, {k}) has shape {Y.shape}, expected {X.shape}"
    s = np.linalg.svd(X, compute_uv=False)
    extra = np.linalg.svd(Y, compute_uv=False)[k:]
    assert extra.max(initial=0) <= 1e-8 * s[0], (
        f"low_rank(image, {k}) has rank above {k}: its singular value {k + 1} is {extra[0]:.3g}")
    error = np.linalg.norm(X - Y)
    optimum = np.sqrt(np.sum(s[k:] ** 2))
    record_metric(f"relative error at rank {k}", error / np.linalg.norm(X),
                  target=f"= {optimum / np.linalg.norm(X):.4f} (Eckart–Young)")
    expect.close(error, optimum, what=f"‖image − low_rank(image, {k})‖_F", rtol=0,
                 atol=TOL * np.linalg.norm(X), oracle="the Eckart–Young optimum √(Σ_{i>k} s_i²)")


def test_low_rank_of_a_tall_matrix(solution):
    values = np.geomspace(20, 0.5, 10)
    X = with_singular_values(50, 10, values, seed=11)
    Y = expect.array(run(solution.low_rank, X, 3, what="low_rank"), "low_rank")
    expect.close(np.linalg.norm(X - Y), np.sqrt(np.sum(values[3:] ** 2)),
                 what="‖X − low_rank(X, 3)‖_F for a 50x10 matrix", rtol=0, atol=1e-8 * values[0],
                 oracle="the Eckart–Young optimum")


@pytest.mark.parametrize("k", [0, 65])
def test_low_rank_rejects_impossible_ranks(solution, k):
    expect.raises(ValueError, solution.low_rank, digit_mosaic(), k, what="low_rank",
                  why=f"k = {k} on a 64x96 image (k must be in 1..64)")


@pytest.mark.parametrize("s,fraction,want", [
    ([1.0, 1.0, 1.0, 1.0], 0.5, 2),
    ([2.0, 1.0, 1.0, 1.0, 1.0], 0.5, 1),
    ([2.0, 1.0, 1.0, 1.0, 1.0], 0.75, 3),
])
def test_energy_rank_at_exact_equality(solution, s, fraction, want):
    # every sum and ratio here is exact in binary, so "≥ fraction" is met with equality
    got = solution.energy_rank(np.array(s), fraction)
    assert got == want, (
        f"energy_rank({s}, {fraction}) returned {got}, expected {want}: s_1² + … + s_k² equals "
        f"{fraction}·Σ s² exactly at k = {want}, and the rule is ≥, not >")

@pytest.mark.parametrize("fraction", [0.5, 0.8, 0.9, 0.99])
def test_energy_rank_counts_squared_singular_values(solution, fraction):
    s = np.linalg.svd(digit_mosaic(), compute_uv=False)
    kept = np.cumsum(s**2) / np.sum(s**2)
    want = int(np.argmax(kept >= fraction)) + 1
    got = solution.energy_rank(s, fraction)
    assert isinstance(got, (int, np.integer)), f"energy_rank must return an int, got {got!r}"
    assert got == want, (
        f"energy_rank(s, {fraction}) returned {got}, expected {want}: the smallest k with "
        f"s_1² + … + s_k² ≥ {fraction}·Σ s² (the energy is in the squares; k counts values)")

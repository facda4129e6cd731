"""Day 2 grader: LU with partial pivoting, QR and solve, checked against scipy and numpy."""

import numpy as np
import pytest
import scipy.linalg

from graders import expect, forbid

RNG = np.random.default_rng(20240102)
BANNED = ["numpy.linalg.qr", "numpy.linalg.solve", "numpy.linalg.inv", "numpy.linalg.lstsq",
          "numpy.linalg.pinv", "numpy.linalg.svd", "numpy.linalg.eig", "numpy.linalg.eigh",
          "numpy.linalg.cholesky", "numpy.linalg.det", "scipy", "torch", "sklearn"]
RUNTIME_BANNED = ["numpy.linalg.qr", "numpy.linalg.solve", "numpy.linalg.inv",
                  "numpy.linalg.lstsq", "numpy.linalg.pinv", "numpy.linalg.svd",
                  "scipy.linalg.lu", "scipy.linalg.qr", "scipy.linalg.solve"]


def run(fn, *args, what):
    """Call the learner's function with the forbidden routines disabled; check args unchanged."""
    copies = [np.array(a, copy=True) for a in args]
    with forbid.calls(*RUNTIME_BANNED):
        result = fn(*args)
    for before, after in zip(copies, args, strict=True):
        assert np.array_equal(before, after), f"{what} modified its input; work on a copy"
    return result


def lu_parts(solution, A):
    result = run(solution.lu, A, what="lu")
    assert isinstance(result, tuple) and len(result) == 3, "lu must return a tuple (P, L, U)"
    assert_float_arrays(result, ("P", "L", "U"), "lu")
    return [expect.array(x, "lu") for x in result]


def qr_parts(solution, A):
    result = run(solution.qr, A, what="qr")
    assert isinstance(result, tuple) and len(result) == 2, "qr must return a tuple (Q, R)"
    assert_float_arrays(result, ("Q", "R"), "qr")
    return [expect.array(x, "qr") for x in result]


def assert_float_arrays(values, names, what):
    """The spec's "Return numpy float arrays": no int or bool array, no list."""
    for name, value in zip(names, values, strict=True):
        assert isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating), (
            f"{what}: {name} must be a numpy float array, got "
            f"{getattr(value, 'dtype', type(value).__name__)}")


def check_lu(P, L, U, A, label):
    n = A.shape[0]
    for name, M in (("P", P), ("L", L), ("U", U)):
        assert M.shape == (n, n), f"lu({label}): {name} has shape {M.shape}, expected {(n, n)}"
    assert set(np.unique(P)) <= {0.0, 1.0} and np.all(P.sum(0) == 1) and np.all(P.sum(1) == 1), (
        f"lu({label}): P is not a permutation matrix"
    )
    assert np.abs(np.triu(L, 1)).max(initial=0) <= 1e-14, (
        f"lu({label}): L has entries above the diagonal")
    assert np.allclose(np.diag(L), 1.0, atol=1e-14), f"lu({label}): L's diagonal must be all ones"
    assert np.abs(np.tril(U, -1)).max(initial=0) <= 1e-14, (
        f"lu({label}): U has entries below the diagonal")
    scale = max(np.abs(A).max(), 1e-300)
    residual = np.abs(P @ A - L @ U).max() / scale
    assert residual <= 1e-12, (
        f"lu({label}): P·A differs from L·U by {residual:.2e} (relative); tolerance 1e-12"
    )
    assert np.abs(L).max() <= 1 + 1e-12, (
        f"lu({label}): |L| reaches {np.abs(L).max():.3g} > 1, so the pivots were not chosen "
        "by partial pivoting (largest |entry| in the column)"
    )


def test_forbidden_routines_are_not_used(solution_dir):
    forbid.assert_not_used(solution_dir, BANNED, why="write the factorisations yourself")


@pytest.mark.parametrize("n", [1, 2, 5, 20, 60])
def test_lu_factors_random_matrices_like_scipy(solution, n):
    A = RNG.standard_normal((n, n))
    P, L, U = lu_parts(solution, A)
    check_lu(P, L, U, A, f"random {n}x{n}")
    p, l_ref, u_ref = scipy.linalg.lu(A)
    expect.close(P, p.T, what=f"P of a random {n}x{n} matrix", rtol=0, atol=1e-9, oracle="scipy")
    expect.close(L, l_ref, what=f"L of a random {n}x{n} matrix", rtol=0, atol=1e-9, oracle="scipy")
    expect.close(U, u_ref, what=f"U of a random {n}x{n} matrix", rtol=0, atol=1e-9, oracle="scipy")


@pytest.mark.parametrize("A,label", [
    ([[0.0, 2.0], [3.0, 4.0]], "a zero first pivot"),
    ([[1e-20, 1.0], [1.0, 1.0]], "a tiny first pivot"),
    ([[1.0, 2.0, 3.0], [2.0, 4.0, 7.0], [1.0, 5.0, 2.0]], "a zero pivot in step 2"),
])
def test_lu_needs_pivoting(solution, A, label):
    A = np.array(A)
    P, L, U = lu_parts(solution, A)
    assert np.all(np.isfinite(L)) and np.all(np.isfinite(U)), (
        f"lu of a matrix with {label} produced inf/NaN: a division by a zero pivot (no pivoting?)"
    )
    check_lu(P, L, U, A, label)


def test_lu_takes_the_first_of_equal_pivots(solution):
    # |1| = |-1| in column 0 and |2.5| = |-2.5| in column 1 after step 1: the spec's
    # "the first such row if several are equal", which is also LAPACK's (and scipy's) choice
    A = np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0], [0.5, -1.5, 1.0]])
    P, L, U = lu_parts(solution, A)
    check_lu(P, L, U, A, "equal pivot candidates")
    p, l_ref, u_ref = scipy.linalg.lu(A)
    expect.close(P, p.T, what="P of a matrix with equal pivot candidates", rtol=0, atol=0,
                 oracle="scipy (the first of equal candidates is the pivot)")
    expect.close(U, u_ref, what="U of a matrix with equal pivot candidates", rtol=0, atol=1e-12,
                 oracle="scipy")


def test_integer_input_gives_float_factors(solution):
    A = np.array([[2, 1, 1], [4, 3, 3], [8, 7, 9]])
    check_lu(*lu_parts(solution, A), A.astype(float), "an integer matrix")
    Q, R = qr_parts(solution, A)
    expect.close(Q @ R, A, what="Q·R of an integer matrix", rtol=0, atol=1e-12, oracle="A")
    x = run(solution.solve, A, np.array([1, 2, 3]), what="solve")
    assert isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating), (
        f"solve must return a numpy float array, got {getattr(x, 'dtype', type(x).__name__)}")
    expect.close(x, np.linalg.solve(A, [1.0, 2.0, 3.0]), what="solve of an integer system",
                 rtol=1e-9, atol=1e-12, oracle="numpy.linalg.solve")


def test_lu_rejects_non_square(solution):
    expect.raises(ValueError, solution.lu, np.ones((2, 3)), what="lu", why="a 2x3 matrix")
    expect.raises(ValueError, solution.solve, np.ones((2, 3)), np.ones(2), what="solve",
                  why="a 2x3 matrix")
    expect.raises(ValueError, solution.solve, np.ones((3, 2)), np.ones(3), what="solve",
                  why="a 3x2 matrix")
    expect.raises(ValueError, solution.solve, np.eye(3), np.ones(2), what="solve",
                  why="a 3x3 matrix and b of length 2")


@pytest.mark.parametrize("m,n", [(1, 1), (3, 3), (7, 7), (10, 4), (50, 20)])
def test_qr_matches_numpy(solution, m, n):
    A = RNG.standard_normal((m, n))
    Q, R = qr_parts(solution, A)
    label = f"a random {m}x{n} matrix"
    assert Q.shape == (m, n) and R.shape == (n, n), (
        f"qr({label}) returned Q {Q.shape} and R {R.shape}; "
        f"the reduced QR has Q {(m, n)}, R {(n, n)}"
    )
    assert np.abs(np.tril(R, -1)).max(initial=0) <= 1e-12, f"qr({label}): R is not upper triangular"
    assert np.all(np.diag(R) >= 0), f"qr({label}): R has a negative diagonal entry; flip its sign"
    orth = np.abs(Q.T @ Q - np.eye(n)).max()
    assert orth <= 1e-12, f"qr({label}): Q's columns are not orthonormal (|QᵀQ − I| = {orth:.1e})"
    residual = np.abs(Q @ R - A).max() / np.abs(A).max()
    assert residual <= 1e-12, f"qr({label}): Q·R differs from A by {residual:.1e} (relative)"
    q_ref, r_ref = np.linalg.qr(A)
    signs = np.where(np.diag(r_ref) < 0, -1.0, 1.0)
    expect.close(Q, q_ref * signs, what=f"Q of {label}", rtol=0, atol=1e-8, oracle="numpy")
    expect.close(R, r_ref * signs[:, None], what=f"R of {label}", rtol=0, atol=1e-8, oracle="numpy")


def test_qr_stays_orthogonal_when_ill_conditioned(solution):
    m, n = 40, 12
    rng = np.random.default_rng(7)
    U, _ = np.linalg.qr(rng.standard_normal((m, n)))
    V, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = U @ np.diag(np.logspace(0, -6, n)) @ V.T  # condition number 1e6
    Q, R = qr_parts(solution, A)
    orth = np.abs(Q.T @ Q - np.eye(n)).max()
    assert orth <= 1e-8, (
        f"on a matrix with condition number 1e6, |QᵀQ − I| = {orth:.1e} > 1e-8: classical "
        "Gram–Schmidt loses orthogonality; use modified Gram–Schmidt or Householder"
    )
    assert np.abs(Q @ R - A).max() <= 1e-12, "Q·R does not reproduce the ill-conditioned A"


def test_qr_rejects_wide_matrices(solution):
    expect.raises(ValueError, solution.qr, np.ones((2, 3)), what="qr", why="a 2x3 matrix (m < n)")


@pytest.mark.parametrize("n", [1, 3, 10, 40])
def test_solve_matches_numpy(solution, n):
    A = RNG.standard_normal((n, n)) + n * np.eye(n) * 0.1
    b = RNG.standard_normal(n)
    x = run(solution.solve, A, b, what="solve")
    expect.close(x, np.linalg.solve(A, b), what=f"solve of a {n}x{n} system", rtol=1e-9,
                 atol=1e-12, oracle="numpy.linalg.solve")


def test_solve_needs_pivoting(solution):
    A, b = np.array([[0.0, 1.0], [1.0, 1.0]]), np.array([2.0, 3.0])
    x = run(solution.solve, A, b, what="solve")
    expect.close(x, [1.0, 2.0], what="solve([[0, 1], [1, 1]], [2, 3])", rtol=1e-12, atol=1e-12,
                 oracle="the exact solution")


BENCH_N = 96


def test_benchmark_against_lapack(solution, bench):
    """Records the time of lu and qr next to LAPACK's (one thread each, interleaved rounds),
    and holds lu to the day's generous speed-up target (challenge.toml: lu_speedup)."""
    A = np.random.default_rng(20240103).standard_normal((BENCH_N, BENCH_N))
    size = f"{BENCH_N}x{BENCH_N}"
    bench.measure(solution.lu, A, name=f"lu {size}", threads=1, max_time_s=0.5)
    bench.compare(np.linalg.qr, solution.qr, A, name=f"qr vs numpy.linalg.qr {size}",
                  threads=1, max_time_s=1.5)
    lu = bench.compare(scipy.linalg.lu, solution.lu, A, name=f"lu vs scipy.linalg.lu {size}",
                       threads=1, max_time_s=1.5)
    bench.check(lu, "lu_speedup")

"""Day 3: symmetric eigendecomposition and SVD from scratch; rank-k image compression.

Allowed: numpy, including numpy.linalg.qr and numpy.linalg.norm. Forbidden: numpy.linalg's
eig/eigh/eigvals/eigvalsh/svd/svdvals/pinv/matrix_rank, scipy, sklearn.decomposition,
sklearn.utils, torch.
"""

import numpy as np  # noqa: F401  (the starter leaves it unused until you write the code)


def power_iteration(A, tol=1e-12, max_iter=10_000):
    """The dominant eigenpair (largest |eigenvalue|) of a symmetric matrix.

    Returns (lam, v): lam a float (with its sign), v a unit-length float array of shape (n,).
    Raises ValueError if A is not square and symmetric.
    """
    # TODO: start from a random vector; repeat v <- A v / ||A v||; lam = Rayleigh quotient
    # TODO: stop when ||A v - lam v|| <= tol * ||A|| (or after max_iter steps)
    raise NotImplementedError("power_iteration")


def eigh(A, tol=1e-14, max_iter=10_000):
    """All eigenpairs of a real symmetric n x n matrix.

    Returns (w, V): w of shape (n,) in descending order (largest first), V of shape (n, n)
    whose column i is a unit eigenvector for w[i] (columns orthonormal).
    Raises ValueError if A is not square and symmetric. Does not modify A.
    """
    # TODO: QR iteration (with a shift and deflation) or Jacobi rotations on a copy of A
    # TODO: accumulate the orthogonal transformations into V; sort descending at the end
    raise NotImplementedError("eigh")


def svd(A):
    """The thin SVD of an m x n matrix: (U, s, Vt) with A = U @ diag(s) @ Vt.

    r = min(m, n); U has shape (m, r) with orthonormal columns, s shape (r,) descending and
    >= 0, Vt shape (r, n) with orthonormal rows.
    """
    # TODO: eigh of the smaller Gram matrix gives V (or U) and s**2; then u_i = A v_i / s_i
    raise NotImplementedError("svd")


def low_rank(X, k):
    """The best rank-k approximation of the matrix X (same shape, float).

    Raises ValueError unless 1 <= k <= min(X.shape).
    """
    # TODO: keep the k largest singular triplets
    raise NotImplementedError("low_rank")


def energy_rank(s, fraction):
    """The smallest k such that the k largest singular values in s (given in descending
    order) hold at least `fraction` of the energy sum(s**2). Returns an int."""
    # TODO
    raise NotImplementedError("energy_rank")

# mistake: eigh hands the work to numpy.linalg.eigh and reverses its order
# expect: the spec forbids numpy.linalg.eigh
"""Day 3: symmetric eigendecomposition (power and shifted QR iteration), SVD via the
eigenvalues of a Gram matrix, and rank-k compression."""

import numpy as np


def _square_symmetric(A, what):
    A = np.array(A, dtype=float)  # a copy: the caller's array is never touched
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{what}: expected a square matrix, got shape {A.shape}")
    if not np.allclose(A, A.T, rtol=0, atol=1e-10 * max(np.abs(A).max(initial=0), 1e-300)):
        raise ValueError(f"{what}: the matrix is not symmetric")
    return A


def power_iteration(A, tol=1e-12, max_iter=10_000):
    """Dominant eigenpair (largest |eigenvalue|) of a symmetric matrix: (lam, v), ‖v‖ = 1."""
    A = _square_symmetric(A, "power_iteration")
    v = np.random.default_rng(0).standard_normal(A.shape[0])  # almost surely not ⟂ the answer
    v /= np.linalg.norm(v)
    scale = max(np.linalg.norm(A), 1e-300)
    lam = 0.0
    for _ in range(max_iter):
        w = A @ v
        lam = v @ w  # Rayleigh quotient: keeps the sign, unlike ‖Av‖
        # the residual does not care that v flips sign each step when lam < 0
        if np.linalg.norm(w - lam * v) <= tol * scale:
            break
        v = w / np.linalg.norm(w)
    return float(lam), v


def _wilkinson_shift(a, b, c):
    """The eigenvalue of [[a, b], [b, c]] closer to c."""
    d = (a - c) / 2
    sign = 1.0 if d >= 0 else -1.0
    return c - sign * b * b / (abs(d) + np.hypot(d, b))


def eigh(A, tol=1e-14, max_iter=10_000):
    """All eigenpairs of a symmetric matrix: w descending, V's columns orthonormal eigenvectors."""
    T = _square_symmetric(A, "eigh")
    w, V = np.linalg.eigh(T)
    return w[::-1], V[:, ::-1]
    n = T.shape[0]
    V = np.eye(n)
    scale = max(np.linalg.norm(T), 1e-300)
    m = n  # T[:m, :m] is the block still being diagonalised; the rest has converged
    for _ in range(max_iter):
        if m <= 1:
            break
        if np.linalg.norm(T[m - 1, : m - 1]) <= tol * scale:
            m -= 1  # deflate: the last row of the active block is (nearly) an eigenvalue
            continue
        mu = _wilkinson_shift(T[m - 2, m - 2], T[m - 1, m - 2], T[m - 1, m - 1])
        Q, R = np.linalg.qr(T[:m, :m] - mu * np.eye(m))
        T[:m, :m] = R @ Q + mu * np.eye(m)  # = Qᵀ T Q: similar, so same eigenvalues
        V[:, :m] = V[:, :m] @ Q
    else:
        raise RuntimeError("eigh: QR iteration did not converge")
    w = np.diag(T).copy()
    order = np.argsort(w)[::-1]
    return w[order], V[:, order]


def svd(A):
    """Thin SVD (U, s, Vt): U is m×r, s has r entries (descending), Vt is r×n, r = min(m, n)."""
    A = np.array(A, dtype=float)
    if A.ndim != 2:
        raise ValueError(f"svd: expected a matrix, got shape {A.shape}")
    m, n = A.shape
    if m < n:  # work with the smaller Gram matrix: AᵀA of Aᵀ is A Aᵀ (m×m)
        U, s, Vt = svd(A.T)
        return Vt.T, s, U.T
    w, V = eigh(A.T @ A)  # AᵀA = V diag(s²) Vᵀ
    s = np.sqrt(np.clip(w, 0.0, None))
    # u_i = A v_i / s_i; a zero singular value leaves u_i undetermined (0 here)
    safe = np.where(s > 0, s, 1.0)
    U = (A @ V) / safe
    U[:, s == 0] = 0.0
    return U, s, V.T


def low_rank(X, k):
    """The best rank-k approximation of X (Eckart–Young): keep the k largest singular triplets."""
    X = np.array(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"low_rank: expected a matrix, got shape {X.shape}")
    if not 1 <= k <= min(X.shape):
        raise ValueError(f"low_rank: k must be in 1..{min(X.shape)}, got {k}")
    U, s, Vt = svd(X)
    return (U[:, :k] * s[:k]) @ Vt[:k]


def energy_rank(s, fraction):
    """The smallest k whose k largest singular values keep `fraction` of Σ s² (the energy)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"energy_rank: fraction must be in (0, 1], got {fraction}")
    energy = np.sort(np.asarray(s, dtype=float))[::-1] ** 2
    kept = np.cumsum(energy) / energy.sum()
    return int(np.searchsorted(kept, fraction) + 1)  # first index with kept ≥ fraction, as a count

# mistake: correct LU, but a Python loop over single entries (~2000x slower than LAPACK)
# expect: lu vs scipy.linalg.lu

import numpy as np


def _square(A, what):
    A = np.array(A, dtype=float)  # a copy: the caller's array is never touched
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{what} needs a square matrix, got shape {A.shape}")
    return A


def lu(A):
    U = _square(A, "lu")
    n = U.shape[0]
    P, L = np.eye(n), np.eye(n)
    for k in range(n - 1):
        pivot = k
        for i in range(k + 1, n):  # one entry at a time: correct, but slow
            if abs(U[i, k]) > abs(U[pivot, k]):
                pivot = i
        if pivot != k:
            U[[k, pivot]] = U[[pivot, k]]
            P[[k, pivot]] = P[[pivot, k]]
            L[[k, pivot], :k] = L[[pivot, k], :k]
        if U[k, k] == 0.0:
            continue
        for i in range(k + 1, n):
            L[i, k] = U[i, k] / U[k, k]
            for j in range(k, n):
                U[i, j] -= L[i, k] * U[k, j]
            U[i, k] = 0.0
    return P, L, U


def qr(A):
    A = np.array(A, dtype=float)
    if A.ndim != 2 or A.shape[0] < A.shape[1]:
        raise ValueError(f"qr needs an m x n matrix with m >= n, got shape {A.shape}")
    m, n = A.shape
    R = A.copy()
    Q_full = np.eye(m)
    for k in range(n):
        x = R[k:, k]
        alpha = np.linalg.norm(x)
        if alpha == 0.0:
            continue
        v = x.copy()
        v[0] += np.copysign(alpha, x[0])  # the sign that avoids cancellation
        v /= np.linalg.norm(v)
        R[k:, :] -= 2.0 * np.outer(v, v @ R[k:, :])
        Q_full[:, k:] -= 2.0 * np.outer(Q_full[:, k:] @ v, v)
    Q, R = Q_full[:, :n], np.triu(R[:n, :])
    signs = np.where(np.diag(R) < 0, -1.0, 1.0)
    return Q * signs, R * signs[:, None]


def solve(A, b):
    A = _square(A, "solve")
    b = np.asarray(b, dtype=float)
    if b.shape != (A.shape[0],):
        raise ValueError(f"b must have length {A.shape[0]}, got shape {b.shape}")
    P, L, U = lu(A)
    n = A.shape[0]
    y = P @ b
    for i in range(n):  # L y = P b, L unit lower triangular
        y[i] -= L[i, :i] @ y[:i]
    x = np.zeros(n)
    for i in reversed(range(n)):  # U x = y
        x[i] = (y[i] - U[i, i + 1:] @ x[i + 1:]) / U[i, i]
    return x

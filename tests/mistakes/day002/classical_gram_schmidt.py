# mistake: classical Gram–Schmidt, which loses orthogonality on ill-conditioned matrices
# expect: classical Gram–Schmidt loses orthogonality
import numpy as np


def lu(A):
    U = np.array(A, dtype=float)
    if U.ndim != 2 or U.shape[0] != U.shape[1]:
        raise ValueError("square")
    n = U.shape[0]
    P, L = np.eye(n), np.eye(n)
    for k in range(n - 1):
        p = k + int(np.argmax(np.abs(U[k:, k])))
        U[[k, p]], P[[k, p]], L[[k, p], :k] = U[[p, k]], P[[p, k]], L[[p, k], :k]
        if U[k, k] != 0.0:
            L[k + 1:, k] = U[k + 1:, k] / U[k, k]
            U[k + 1:, k:] -= np.outer(L[k + 1:, k], U[k, k:])
            U[k + 1:, k] = 0.0
    return P, L, U


def qr(A):
    A = np.array(A, dtype=float)
    m, n = A.shape
    if m < n:
        raise ValueError("m < n")
    Q, R = np.zeros((m, n)), np.zeros((n, n))
    for j in range(n):
        v = A[:, j].copy()
        for i in range(j):
            R[i, j] = Q[:, i] @ A[:, j]  # projects the original column: classical GS
            v -= R[i, j] * Q[:, i]
        R[j, j] = np.linalg.norm(v)
        Q[:, j] = v / R[j, j]
    return Q, R


def solve(A, b):
    P, L, U = lu(A)
    y = P @ np.asarray(b, dtype=float)
    n = len(y)
    for i in range(n):
        y[i] -= L[i, :i] @ y[:i]
    x = np.zeros(n)
    for i in reversed(range(n)):
        x[i] = (y[i] - U[i, i + 1:] @ x[i + 1:]) / U[i, i]
    return x

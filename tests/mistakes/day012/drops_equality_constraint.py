# mistake: updates one multiplier at a time, so the constraint sum(alpha * y) = 0 is lost
# expect: the equality constraint

import numpy as np


def linear_kernel(X, Z):
    return np.asarray(X, dtype=float) @ np.asarray(Z, dtype=float).T


def dual_objective(alpha, K, y):
    alpha, y = np.asarray(alpha, dtype=float), np.asarray(y, dtype=float)
    ay = alpha * y
    return float(alpha.sum() - 0.5 * ay @ np.asarray(K, dtype=float) @ ay)


def solve_dual(K, y, C, tol=1e-6, max_iter=100_000):
    """Coordinate ascent, one multiplier at a time: simple, but it drops Σ αᵢ yᵢ = 0."""
    K, y = np.asarray(K, dtype=float), np.asarray(y, dtype=float)
    n = len(y)
    alpha = np.zeros(n)
    for _ in range(max_iter // n):
        biggest = 0.0
        for i in range(n):
            grad_i = 1 - y[i] * ((alpha * y) @ K[:, i])
            new = min(max(alpha[i] + grad_i / max(K[i, i], 1e-12), 0.0), C)
            biggest = max(biggest, abs(new - alpha[i]))
            alpha[i] = new
        if biggest < tol:
            break
    f = (alpha * y) @ K
    free = (alpha > 1e-9 * C) & (alpha < C * (1 - 1e-9))
    b = np.mean(y[free] - f[free]) if free.any() else 0.0
    return alpha, float(b)


class LinearSVM:
    def __init__(self, C=1.0, tol=1e-6, max_iter=100_000, sv_tol=1e-6):
        self.C = C
        self.tol = tol
        self.max_iter = max_iter
        self.sv_tol = sv_tol

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        if not np.all(np.isin(y, (-1.0, 1.0))):
            raise ValueError("labels must be -1 or +1")
        alpha, b = solve_dual(linear_kernel(X, X), y, self.C, self.tol, self.max_iter)
        self.alpha_, self.b_ = alpha, b
        self.w_ = (alpha * y) @ X
        self.support_ = np.flatnonzero(alpha > self.sv_tol)
        self.margin_ = 2.0 / np.linalg.norm(self.w_)
        return self

    def decision_function(self, X):
        return np.asarray(X, dtype=float) @ self.w_ + self.b_

    def predict(self, X):
        return np.where(self.decision_function(X) >= 0, 1, -1)

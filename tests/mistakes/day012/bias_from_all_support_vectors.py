# mistake: averages the bias over every support vector, even those with alpha = C
# expect: the intercept b_

import numpy as np


def linear_kernel(X, Z):
    return np.asarray(X, dtype=float) @ np.asarray(Z, dtype=float).T


def dual_objective(alpha, K, y):
    alpha, y = np.asarray(alpha, dtype=float), np.asarray(y, dtype=float)
    ay = alpha * y
    return float(alpha.sum() - 0.5 * ay @ np.asarray(K, dtype=float) @ ay)


def solve_dual(K, y, C, tol=1e-6, max_iter=100_000):
    """SMO: minimise f(α) = ½ αᵀQα − Σα, Q = yyᵀ∘K, two multipliers per step."""
    K, y = np.asarray(K, dtype=float), np.asarray(y, dtype=float)
    n = len(y)
    alpha = np.zeros(n)
    grad = -np.ones(n)  # G = Qα − 1 at α = 0
    for _ in range(max_iter):
        score = -y * grad  # at the optimum, every free multiplier has score b
        can_up = ((y > 0) & (alpha < C)) | ((y < 0) & (alpha > 0))
        can_down = ((y < 0) & (alpha < C)) | ((y > 0) & (alpha > 0))
        i = np.flatnonzero(can_up)[np.argmax(score[can_up])]
        j = np.flatnonzero(can_down)[np.argmin(score[can_down])]
        gap = score[i] - score[j]
        if gap < tol:  # KKT conditions hold to within tol
            break
        # move α_i by +y_i t and α_j by −y_j t: Σ α y is unchanged
        curvature = max(K[i, i] + K[j, j] - 2 * K[i, j], 1e-12)
        t = gap / curvature
        t = min(t, C - alpha[i] if y[i] > 0 else alpha[i], alpha[j] if y[j] > 0 else C - alpha[j])
        alpha[i] += y[i] * t
        alpha[j] -= y[j] * t
        grad += t * y * (K[:, i] - K[:, j])
    score = -y * grad
    free = alpha > 1e-12 * C
    if free.any():
        b = score[free].mean()
    else:  # every support vector at a bound: b lies in an interval, take its middle
        b = 0.5 * (score[can_up].max() + score[can_down].min())
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

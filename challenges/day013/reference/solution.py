"""Day 13 reference: hard- and soft-margin kernel SVMs on the day-12 SMO solver."""

import numpy as np


def linear_kernel(X, Z):
    return np.asarray(X, dtype=float) @ np.asarray(Z, dtype=float).T


def rbf_kernel(X, Z, gamma):
    X, Z = np.asarray(X, dtype=float), np.asarray(Z, dtype=float)
    sq = (X**2).sum(1)[:, None] + (Z**2).sum(1)[None, :] - 2 * X @ Z.T
    return np.exp(-gamma * np.maximum(sq, 0.0))


def solve_dual(K, y, C, tol=1e-6, max_iter=100_000):
    """SMO as on day 12; C may be np.inf (hard margin). Returns (alpha, b, converged)."""
    n = len(y)
    alpha = np.zeros(n)
    grad = -np.ones(n)
    converged = False
    for _ in range(max_iter):
        score = -y * grad
        can_up = ((y > 0) & (alpha < C)) | ((y < 0) & (alpha > 0))
        can_down = ((y < 0) & (alpha < C)) | ((y > 0) & (alpha > 0))
        i = np.flatnonzero(can_up)[np.argmax(score[can_up])]
        j = np.flatnonzero(can_down)[np.argmin(score[can_down])]
        gap = score[i] - score[j]
        if gap < tol:
            converged = True
            break
        t = gap / max(K[i, i] + K[j, j] - 2 * K[i, j], 1e-12)
        t = min(t, C - alpha[i] if y[i] > 0 else alpha[i], alpha[j] if y[j] > 0 else C - alpha[j])
        alpha[i] += y[i] * t
        alpha[j] -= y[j] * t
        grad += t * y * (K[:, i] - K[:, j])
    score = -y * grad
    free = (alpha > 1e-12 * min(C, 1.0)) & (alpha < C * (1 - 1e-12))
    if free.any():
        b = score[free].mean()
    else:
        b = 0.5 * (score[can_up].max() + score[can_down].min())
    return alpha, float(b), converged


class SVM:
    def __init__(self, C=1.0, kernel="linear", gamma=1.0, tol=1e-6, max_iter=100_000,
                 sv_tol=1e-6):
        self.C, self.kernel, self.gamma = C, kernel, gamma
        self.tol, self.max_iter, self.sv_tol = tol, max_iter, sv_tol

    def _gram(self, A, B):
        if self.kernel == "linear":
            return linear_kernel(A, B)
        if self.kernel == "rbf":
            return rbf_kernel(A, B, self.gamma)
        raise ValueError(f"unknown kernel {self.kernel!r}")

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        if not np.all(np.isin(y, (-1.0, 1.0))):
            raise ValueError("labels must be -1 or +1")
        C = np.inf if self.C is None else float(self.C)
        K = self._gram(X, X)
        alpha, b, converged = solve_dual(K, y, C, self.tol, self.max_iter)
        # hard margin: the dual is unbounded when no separating boundary exists
        if self.C is None and (not converged or np.min(y * ((alpha * y) @ K + b)) < 1 - 1e-3):
            raise ValueError("the data are not separable: a hard margin does not exist")
        self.X_, self.y_, self.alpha_, self.b_ = X, y, alpha, b
        self.support_ = np.flatnonzero(alpha > self.sv_tol)
        self.w_norm_ = float(np.sqrt(max((alpha * y) @ K @ (alpha * y), 0.0)))
        return self

    def decision_function(self, X):
        sv = self.support_
        coef = self.alpha_[sv] * self.y_[sv]
        return self._gram(np.asarray(X, dtype=float), self.X_[sv]) @ coef + self.b_

    def predict(self, X):
        return np.where(self.decision_function(X) >= 0, 1, -1)


def margin_width(model):
    """2 / ||w||, with ||w||² = Σᵢⱼ αᵢαⱼyᵢyⱼK(xᵢ, xⱼ) (any kernel)."""
    return 2.0 / model.w_norm_


def decision_grid(model, xlim, ylim, nx, ny):
    xx, yy = np.meshgrid(np.linspace(*xlim, nx), np.linspace(*ylim, ny))  # (ny, nx) each
    zz = model.decision_function(np.c_[xx.ravel(), yy.ravel()]).reshape(xx.shape)
    return xx, yy, zz


def c_sweep(X, y, Cs, kernel="linear", gamma=1.0):
    margins, n_support, errors = [], [], []
    for C in Cs:
        model = SVM(C=C, kernel=kernel, gamma=gamma).fit(X, y)
        margins.append(margin_width(model))
        n_support.append(len(model.support_))
        errors.append(np.mean(model.predict(X) != np.asarray(y)))
    return {"margin": np.array(margins), "n_support": np.array(n_support),
            "train_error": np.array(errors)}

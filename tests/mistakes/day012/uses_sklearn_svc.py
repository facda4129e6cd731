# mistake: hands the optimisation to sklearn's SVC instead of writing the solver
# expect: the spec forbids sklearn.svm
import numpy as np
from sklearn.svm import SVC


def linear_kernel(X, Z):
    return np.asarray(X, dtype=float) @ np.asarray(Z, dtype=float).T


def dual_objective(alpha, K, y):
    ay = np.asarray(alpha) * np.asarray(y)
    return float(np.sum(alpha) - 0.5 * ay @ K @ ay)


def solve_dual(K, y, C, tol=1e-6, max_iter=100_000):
    svc = SVC(kernel="precomputed", C=C, tol=1e-10).fit(K, y)
    alpha = np.zeros(len(y))
    alpha[svc.support_] = np.abs(svc.dual_coef_[0])
    return alpha, float(svc.intercept_[0])


class LinearSVM:
    def __init__(self, C=1.0, tol=1e-6, max_iter=100_000, sv_tol=1e-6):
        self.C, self.sv_tol = C, sv_tol

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        if not np.all(np.isin(y, (-1.0, 1.0))):
            raise ValueError("labels must be -1 or +1")
        self.alpha_, self.b_ = solve_dual(X @ X.T, y, self.C)
        self.w_ = (self.alpha_ * y) @ X
        self.support_ = np.flatnonzero(self.alpha_ > self.sv_tol)
        self.margin_ = 2.0 / np.linalg.norm(self.w_)
        return self

    def decision_function(self, X):
        return np.asarray(X, dtype=float) @ self.w_ + self.b_

    def predict(self, X):
        return np.where(self.decision_function(X) >= 0, 1, -1)

"""Day 12: the soft-margin SVM dual, solved by your own QP solver (SMO or projected gradient).

Labels are -1 / +1. Forbidden here: sklearn.svm, sklearn.linear_model, scipy.optimize and
any other generic QP solver (cvxopt, cvxpy, quadprog, qpsolvers, osqp).
"""

import numpy as np  # noqa: F401  (you will need it)


def linear_kernel(X, Z):
    """The Gram matrix K[i, j] = X[i] · Z[j]; X is (n, d), Z is (m, d), result (n, m) float."""
    # TODO
    raise NotImplementedError("linear_kernel")


def dual_objective(alpha, K, y):
    """The dual objective W(α) = Σᵢ αᵢ − ½ Σᵢ Σⱼ αᵢ αⱼ yᵢ yⱼ K[i, j], a float (to be maximised)."""
    # TODO
    raise NotImplementedError("dual_objective")


def solve_dual(K, y, C, tol=1e-6, max_iter=100_000):
    """Maximise the dual over 0 <= αᵢ <= C, Σ αᵢ yᵢ = 0, for any (n, n) Gram matrix K.

    Returns (alpha, b): alpha an (n,) float array, b the bias (a float) of the decision
    function f(x) = Σᵢ αᵢ yᵢ K(xᵢ, x) + b.
    """
    # TODO: SMO (two multipliers at a time) or projected gradient
    raise NotImplementedError("solve_dual")


class LinearSVM:
    """A soft-margin linear SVM trained through its dual."""

    def __init__(self, C=1.0, tol=1e-6, max_iter=100_000, sv_tol=1e-6):
        self.C = C
        self.tol = tol
        self.max_iter = max_iter
        self.sv_tol = sv_tol

    def fit(self, X, y):
        """Train on X (n, d) and y (n,) of -1 / +1 (ValueError for any other label).

        Sets alpha_ (n,), w_ (d,), b_ (float), support_ (sorted int indices with
        alpha_ > sv_tol) and margin_ (the width 2 / ||w||); returns self.
        """
        # TODO
        raise NotImplementedError("LinearSVM.fit")

    def decision_function(self, X):
        """w · x + b for each row of X: an (m,) float array."""
        # TODO
        raise NotImplementedError("LinearSVM.decision_function")

    def predict(self, X):
        """-1 or +1 for each row of X (+1 where the decision function is >= 0)."""
        # TODO
        raise NotImplementedError("LinearSVM.predict")

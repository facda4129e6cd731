"""Day 13: hard vs soft margin, kernels, and the decision-boundary grid.

Copy your day-12 solver into this file. Labels are -1 / +1. Forbidden: sklearn.svm,
sklearn.linear_model, scipy.optimize and other generic QP solvers.
"""

import numpy as np  # noqa: F401  (you will need it)


def rbf_kernel(X, Z, gamma):
    """K[i, j] = exp(-gamma * ||X[i] - Z[j]||²); X (n, d), Z (m, d) -> (n, m) float."""
    # TODO
    raise NotImplementedError("rbf_kernel")


class SVM:
    """A kernel SVM. C=None means a hard margin (C = infinity)."""

    def __init__(self, C=1.0, kernel="linear", gamma=1.0, tol=1e-6, max_iter=100_000,
                 sv_tol=1e-6):
        self.C, self.kernel, self.gamma = C, kernel, gamma
        self.tol, self.max_iter, self.sv_tol = tol, max_iter, sv_tol

    def fit(self, X, y):
        """Train on X (n, d), y (n,) of -1 / +1; returns self.

        Sets alpha_ (n,), b_ (float), support_ (sorted indices with alpha_ > sv_tol).
        ValueError for labels other than -1 / +1, and when C is None and the data are not
        separable (no convergence within max_iter, or a point left with y f(x) < 1 - 1e-3).
        """
        # TODO
        raise NotImplementedError("SVM.fit")

    def decision_function(self, X):
        """f(x) = Σᵢ αᵢ yᵢ K(xᵢ, x) + b for each row of X: an (m,) float array."""
        # TODO
        raise NotImplementedError("SVM.decision_function")

    def predict(self, X):
        """-1 / +1 for each row of X (+1 where f(x) >= 0)."""
        # TODO
        raise NotImplementedError("SVM.predict")


def margin_width(model):
    """The margin width 2 / ||w|| of a fitted SVM, ||w||² = Σᵢⱼ αᵢ αⱼ yᵢ yⱼ K(xᵢ, xⱼ)."""
    # TODO
    raise NotImplementedError("margin_width")


def decision_grid(model, xlim, ylim, nx, ny):
    """The decision function on a grid, for contour plots.

    Returns (xx, yy, zz), each of shape (ny, nx): xx, yy = np.meshgrid(np.linspace(*xlim, nx),
    np.linspace(*ylim, ny)) and zz[i, j] = f((xx[i, j], yy[i, j])).
    """
    # TODO
    raise NotImplementedError("decision_grid")


def c_sweep(X, y, Cs, kernel="linear", gamma=1.0):
    """Fit one soft-margin SVM per C in Cs.

    Returns a dict of arrays of len(Cs): "margin" (margin_width), "n_support"
    (len(support_)) and "train_error" (fraction of training points misclassified).
    """
    # TODO
    raise NotImplementedError("c_sweep")

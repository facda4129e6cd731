"""Day 11: L2-regularised logistic regression, with C chosen by k-fold cross-validation.

Allowed: numpy, scipy (scipy.optimize too). Forbidden: sklearn's models, preprocessing,
pipeline, metrics and the splitters of model_selection (KFold, cross_val_score, ...).
"""

import numpy as np  # noqa: F401  (the starter leaves it unused until you write the code)


def fit_l2(X, y, C=1.0):
    """Minimise 0.5 * ||w||² + C * sum_i log-loss_i over w (shape (d,)) and b (a float);
    b is not penalised. Returns (w, b), converged to ~1e-8."""
    # TODO: Newton's method (or scipy.optimize with a tight tolerance)
    raise NotImplementedError("fit_l2")


def predict_proba(w, b, X):
    """P(y = 1 | x) = sigmoid(X @ w + b)."""
    # TODO
    raise NotImplementedError("predict_proba")


def kfold_indices(n, k):
    """k contiguous folds of range(n) like sklearn's KFold(k) without shuffling.

    Returns a list of k pairs (train_idx, val_idx) of integer arrays.
    Raises ValueError unless 2 <= k <= n.
    """
    # TODO
    raise NotImplementedError("kfold_indices")


def cv_log_loss(X, y, C, k=5):
    """The mean over k folds of the validation mean log-loss of fit_l2(C).

    Each fold standardises with the mean and std (ddof=0) of its *training* rows, then calls
    fit_l2 (this module's) on the scaled training rows.
    """
    # TODO
    raise NotImplementedError("cv_log_loss")


def choose_C(X, y, Cs, k=5):
    """(best_C, losses): losses[i] = cv_log_loss(X, y, Cs[i], k); best_C has the smallest
    loss (the first one on ties)."""
    # TODO
    raise NotImplementedError("choose_C")

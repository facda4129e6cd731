"""Day 10: logistic regression trained by gradient descent (numpy only)."""

import numpy as np  # noqa: F401  (the starter leaves it unused until you write the code)


def sigmoid(z):
    """1 / (1 + exp(-z)) elementwise, finite and exact for any z (even +-1000)."""
    # TODO
    raise NotImplementedError("sigmoid")


def log_loss(w, b, X, y):
    """The mean binary cross-entropy of sigmoid(X @ w + b) against labels y in {0, 1}.

    Finite and exact even when predictions are confidently wrong. Returns a float.
    """
    # TODO
    raise NotImplementedError("log_loss")


def gradient(w, b, X, y):
    """The gradient of log_loss: (dw, db), dw of shape (d,), db a float."""
    # TODO
    raise NotImplementedError("gradient")


def numerical_gradient(f, theta, eps=1e-6):
    """The gradient of a scalar function f at the vector theta by central differences.

    Returns an array shaped like theta; theta itself is left unchanged.
    """
    # TODO
    raise NotImplementedError("numerical_gradient")


def fit(X, y, lr=0.1, n_iter=1000):
    """Full-batch gradient descent from w = 0, b = 0 with step size lr, n_iter steps.

    Returns (w, b, losses): losses[i] is log_loss after step i + 1.
    """
    # TODO
    raise NotImplementedError("fit")


def predict_proba(w, b, X):
    """P(y = 1 | x) for every row of X."""
    # TODO
    raise NotImplementedError("predict_proba")


def predict(w, b, X):
    """Integer labels: 1 where predict_proba >= 0.5, else 0."""
    # TODO
    raise NotImplementedError("predict")

# mistake: the residual is y − σ(z), flipping the gradient's sign
# expect: wrong sign
"""Day 10: logistic regression trained by full-batch gradient descent."""

import numpy as np


def sigmoid(z):
    """1 / (1 + e^(−z)), without overflow for large |z|."""
    z = np.asarray(z, dtype=float)
    # e^(−|z|) never overflows; each branch divides by a number in (1, 2]
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def log_loss(w, b, X, y):
    """The mean binary cross-entropy of probabilities sigmoid(X·w + b) for labels y in {0, 1}."""
    z = np.asarray(X, dtype=float) @ w + b
    # −[y·log σ(z) + (1 − y)·log(1 − σ(z))] = log(1 + e^z) − y·z, exact even when σ(z) rounds
    # to 0 or 1 (where log σ(z) would be log 0)
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def gradient(w, b, X, y):
    """The gradient (dw, db) of log_loss: residuals σ(z) − y, averaged like the loss."""
    X = np.asarray(X, dtype=float)
    residual = y - sigmoid(X @ w + b)
    return X.T @ residual / len(y), float(np.mean(residual))


def numerical_gradient(f, theta, eps=1e-6):
    """Central differences (f(θ + eps·e_i) − f(θ − eps·e_i)) / (2·eps) for every i."""
    theta = np.array(theta, dtype=float)  # a copy: the caller's θ is never touched
    grad = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        grad[i] = (f(theta + step) - f(theta - step)) / (2 * eps)
    return grad


def fit(X, y, lr=0.1, n_iter=1000):
    """Gradient descent from w = 0, b = 0: n_iter steps of size lr. Returns (w, b, losses),
    losses[i] being the loss after step i + 1."""
    X = np.asarray(X, dtype=float)
    w, b = np.zeros(X.shape[1]), 0.0
    losses = []
    for _ in range(n_iter):
        dw, db = gradient(w, b, X, y)
        w, b = w - lr * dw, b - lr * db
        losses.append(log_loss(w, b, X, y))
    return w, b, losses


def predict_proba(w, b, X):
    """P(y = 1 | x) for every row of X."""
    return sigmoid(np.asarray(X, dtype=float) @ w + b)


def predict(w, b, X):
    """Labels 0/1 (integers): 1 where the probability is at least 0.5."""
    return (predict_proba(w, b, X) >= 0.5).astype(np.int64)

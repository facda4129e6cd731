"""Day 31 reference: layers with hand-written forward and backward passes in numpy."""

import numpy as np


class Linear:
    """y = x @ weight.T + bias, with weight of shape (out_features, in_features) as in torch."""

    def __init__(self, in_features, out_features, rng=None):
        rng = np.random.default_rng() if rng is None else rng
        bound = 1.0 / np.sqrt(in_features)
        self.weight = rng.uniform(-bound, bound, size=(out_features, in_features))
        self.bias = rng.uniform(-bound, bound, size=out_features)
        self.grad_weight = None
        self.grad_bias = None
        self._x = None

    def forward(self, x):
        self._x = x
        return x @ self.weight.T + self.bias

    def backward(self, grad_out):
        # y_nj = Σ_i x_ni W_ji + b_j, so each weight collects a sum over the batch
        self.grad_weight = grad_out.T @ self._x
        self.grad_bias = grad_out.sum(axis=0)
        return grad_out @ self.weight


class ReLU:
    def forward(self, x):
        self._mask = x > 0  # the derivative at exactly 0 is taken as 0, as torch does
        return np.where(self._mask, x, 0.0)

    def backward(self, grad_out):
        return grad_out * self._mask


class Sigmoid:
    def forward(self, x):
        # two branches so that exp() never overflows
        e = np.exp(-np.abs(x))
        self._y = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return self._y

    def backward(self, grad_out):
        return grad_out * self._y * (1.0 - self._y)


class Tanh:
    def forward(self, x):
        self._y = np.tanh(x)
        return self._y

    def backward(self, grad_out):
        return grad_out * (1.0 - self._y**2)


def softmax(z):
    """Row-wise softmax of a (N, C) array, stable for large logits."""
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


class SoftmaxCrossEntropy:
    """Mean cross-entropy of softmax(logits) against integer class labels."""

    def forward(self, logits, targets):
        targets = np.asarray(targets)
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        n = logits.shape[0]
        self._probs = np.exp(log_probs)
        self._targets = targets
        return float(-log_probs[np.arange(n), targets].mean())

    def backward(self):
        n = self._probs.shape[0]
        grad = self._probs.copy()
        grad[np.arange(n), self._targets] -= 1.0
        return grad / n  # the loss is a mean over the batch

# mistake: numpy weights stored as (in, out) and applied as h @ W
# expect: torch layout


import numpy as np
import torch
from torch import nn

SIZES = [64, 64, 10]


class NumpyMLP:
    """Linear layers with ReLU between them (none after the last); weights in torch layout."""

    def __init__(self, sizes, seed=0):
        rng = np.random.default_rng(seed)
        self.weights, self.biases = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            bound = 1.0 / np.sqrt(n_in)  # torch.nn.Linear's default range
            self.weights.append(rng.uniform(-bound, bound, size=(n_in, n_out)))
            self.biases.append(rng.uniform(-bound, bound, size=n_out))

    def _forward(self, X):
        """Logits and the input of every layer (kept for the backward pass)."""
        inputs, h = [], X
        last = len(self.weights) - 1
        for i, (W, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            inputs.append(h)
            h = h @ W + b
            if i < last:
                h = np.maximum(h, 0.0)
        return h, inputs

    def forward(self, X):
        return self._forward(np.asarray(X, dtype=np.float64))[0]

    def loss_and_grads(self, X, y):
        X = np.asarray(X, dtype=np.float64)
        logits, inputs = self._forward(X)
        n = X.shape[0]
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_probs[np.arange(n), y].mean()
        g = np.exp(log_probs)
        g[np.arange(n), y] -= 1.0
        g /= n
        grad_w, grad_b = [None] * len(self.weights), [None] * len(self.weights)
        for i in reversed(range(len(self.weights))):
            grad_w[i] = inputs[i].T @ g
            grad_b[i] = g.sum(axis=0)
            if i > 0:
                # back through this layer, then through the ReLU that produced its input
                g = (g @ self.weights[i].T) * (inputs[i] > 0)
        return float(loss), grad_w, grad_b


def train_numpy(X, y, seed=0):
    """Mini-batch SGD with momentum on the mean cross-entropy."""
    rng = np.random.default_rng(seed)
    model = NumpyMLP(SIZES, seed=seed)
    params = model.weights + model.biases
    velocity = [np.zeros_like(p) for p in params]
    lr, momentum, batch = 0.05, 0.9, 32
    for _epoch in range(30):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch):
            idx = order[start:start + batch]
            _, gw, gb = model.loss_and_grads(X[idx], y[idx])
            for p, v, g in zip(params, velocity, gw + gb, strict=True):
                v *= momentum
                v -= lr * g
                p += v  # in place: params are the arrays the model holds
    return model


def make_torch_mlp(sizes):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def train_torch(X, y, seed=0):
    torch.manual_seed(seed)
    model = make_torch_mlp(SIZES)
    X = torch.as_tensor(X, dtype=torch.float32)
    y = torch.as_tensor(y, dtype=torch.long)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(seed)
    for _epoch in range(30):
        order = torch.randperm(len(X), generator=g)
        for start in range(0, len(X), 32):
            idx = order[start:start + 32]
            opt.zero_grad()
            loss_fn(model(X[idx]), y[idx]).backward()
            opt.step()
    return model

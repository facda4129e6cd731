"""Day 32: one MLP written twice — in numpy (your own backward pass) and in PyTorch —
both trained on the digits data set."""

import numpy as np  # noqa: F401  (you will need them)
import torch  # noqa: F401
from torch import nn  # noqa: F401


class NumpyMLP:
    """Linear layers with ReLU between them and NO activation after the last one."""

    def __init__(self, sizes, seed=0):
        """sizes: [n_in, hidden..., n_out], e.g. [64, 64, 10].
        Set self.weights (list of float64 arrays, weights[i] of shape (sizes[i+1], sizes[i]))
        and self.biases (list, biases[i] of shape (sizes[i+1],)), drawn randomly from
        np.random.default_rng(seed)."""
        # TODO
        raise NotImplementedError("NumpyMLP.__init__")

    def forward(self, X):
        """X: (N, sizes[0]) -> logits (N, sizes[-1]), float64. Read self.weights/biases here."""
        # TODO
        raise NotImplementedError("NumpyMLP.forward")

    def loss_and_grads(self, X, y):
        """Mean softmax cross-entropy of the logits against labels y (N,) and its gradients.
        Returns (loss: float, grad_weights: list like self.weights, grad_biases: list)."""
        # TODO: forward keeping each layer's input, then backward from (softmax - onehot) / N
        raise NotImplementedError("NumpyMLP.loss_and_grads")


def train_numpy(X, y, seed=0):
    """Train a NumpyMLP([64, hidden..., 10]) on X (N, 64) float64 in [0, 1], y (N,) ints;
    return the trained NumpyMLP. numpy only (no torch here)."""
    # TODO: mini-batch SGD using loss_and_grads
    raise NotImplementedError("train_numpy")


def make_torch_mlp(sizes):
    """The same architecture as NumpyMLP(sizes) as a torch.nn.Sequential: Linear, ReLU, ...,
    Linear (no softmax at the end: nn.CrossEntropyLoss applies it)."""
    # TODO
    raise NotImplementedError("make_torch_mlp")


def train_torch(X, y, seed=0):
    """Train make_torch_mlp([64, hidden..., 10]) on the same numpy arrays; return the model.
    Call torch.manual_seed(seed) first."""
    # TODO: convert X to float32 and y to int64 tensors; SGD or Adam on nn.CrossEntropyLoss
    raise NotImplementedError("train_torch")

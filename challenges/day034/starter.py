"""Day 34: "TensorFlow basics" — the digits MLP in Keras 3, running on the torch backend."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # must happen before keras is imported

import keras  # noqa: E402, F401  (you will need them)
from torch import nn  # noqa: E402, F401


def build_keras_mlp(sizes):
    """sizes = [n_in, hidden..., n_out]: a built keras.Sequential starting with
    keras.Input(shape=(n_in,)), then Dense layers with ReLU between them and a last Dense
    layer with NO activation (it returns logits)."""
    # TODO
    raise NotImplementedError("build_keras_mlp")


def build_torch_mlp(sizes):
    """The same architecture in PyTorch: Linear, ReLU, ..., Linear (as on day 32)."""
    # TODO
    raise NotImplementedError("build_torch_mlp")


def train_keras(X, y, seed=0):
    """Train build_keras_mlp([64, hidden..., 10]) on digits X (N, 64) float64 in [0, 1],
    y (N,) ints; return the trained model. Call keras.utils.set_random_seed(seed) first."""
    # TODO: compile with SparseCategoricalCrossentropy(from_logits=True), then fit
    raise NotImplementedError("train_keras")

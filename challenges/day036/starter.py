"""Day 36: a small convolutional network trained on the synthetic CIFAR-like image set.

Load the data with:
    from graders.data.images import load_images
    X_train, y_train, X_test, y_test = load_images()
"""

import torch  # noqa: F401  (you will need them)
from torch import nn  # noqa: F401


def build_cnn():
    """A CNN mapping float32 images (N, 3, 32, 32) to logits (N, 10), with at least one
    nn.Conv2d and at most 50,000 parameters."""
    # TODO: conv blocks (Conv2d, ReLU, MaxPool2d), then pool to a vector and a Linear layer
    raise NotImplementedError("build_cnn")


def train_cnn(X, y, seed=0):
    """Train build_cnn() on X (N, 3, 32, 32) float32 in [0, 1] and y (N,) int64 labels;
    return the trained model. Call torch.manual_seed(seed) first."""
    # TODO: mini-batches, nn.CrossEntropyLoss, an optimiser, a few epochs
    raise NotImplementedError("train_cnn")

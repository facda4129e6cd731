"""Day 24: autoencoders in PyTorch vs PCA at the same code size k."""

import numpy as np  # noqa: F401
import torch  # noqa: F401
from torch import nn


def pca_reconstruction_error(X_train, X_test, k):
    """Mean squared error per entry of X_test reconstructed from the top-k principal
    components of X_train (arrays (n, d)); a float."""
    # TODO: centre with the training mean, SVD, project onto k directions, add the mean back
    raise NotImplementedError("pca_reconstruction_error")


class LinearAutoencoder(nn.Module):
    """x (d) -> code (k) -> reconstruction (d), with no non-linearity."""

    def __init__(self, n_features, k):
        super().__init__()
        # TODO: the layers
        raise NotImplementedError("LinearAutoencoder")

    def encode(self, x):
        """(n, d) float32 tensor -> (n, k) code."""
        raise NotImplementedError("LinearAutoencoder.encode")

    def decode(self, z):
        """(n, k) code -> (n, d) reconstruction."""
        raise NotImplementedError("LinearAutoencoder.decode")

    def forward(self, x):
        return self.decode(self.encode(x))


class Autoencoder(nn.Module):
    """A non-linear autoencoder with a bottleneck of exactly k units."""

    def __init__(self, n_features, k, hidden=128):
        super().__init__()
        # TODO: encoder and decoder with non-linear activations
        raise NotImplementedError("Autoencoder")

    def encode(self, x):
        raise NotImplementedError("Autoencoder.encode")

    def decode(self, z):
        raise NotImplementedError("Autoencoder.decode")

    def forward(self, x):
        return self.decode(self.encode(x))


def train_autoencoder(model, X, epochs=100, lr=1e-2, batch_size=128, seed=0):
    """Train model in place to reconstruct X (numpy float32 array (n, d)) under the mean
    squared error; returns the list of per-epoch mean training losses. Seeded by seed."""
    # TODO: torch.manual_seed(seed), Adam, mini-batches of a random permutation
    raise NotImplementedError("train_autoencoder")


def reconstruction_error(model, X):
    """Mean squared error per entry of model(X) against X (numpy (n, d)); a float."""
    # TODO: eval mode, no gradients
    raise NotImplementedError("reconstruction_error")

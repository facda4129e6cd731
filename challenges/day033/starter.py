"""Day 33: PyTorch's data pipeline and a training loop you write yourself."""

import torch  # noqa: F401  (you will need them)
from torch import nn  # noqa: F401
from torch.utils.data import DataLoader, Dataset  # noqa: F401


class ArrayDataset(Dataset):
    """(features, label) pairs from a feature array X (N, D) and a label array y (N,)."""

    def __init__(self, X, y):
        # TODO: keep X as float32 and y as int64 tensors
        raise NotImplementedError("ArrayDataset.__init__")

    def __len__(self):
        # TODO
        raise NotImplementedError("ArrayDataset.__len__")

    def __getitem__(self, i):
        """(features: float32 tensor (D,), label: 0-d int64 tensor) of sample i."""
        # TODO
        raise NotImplementedError("ArrayDataset.__getitem__")


def make_loader(dataset, batch_size, shuffle, seed=0):
    """An iterable of (features (B, D) float32, labels (B,) int64) batches, keeping the last
    partial batch. With shuffle=True every pass is a new random order that depends only on
    `seed` (not on torch's global random state)."""
    # TODO: DataLoader(..., generator=...)
    raise NotImplementedError("make_loader")


def train_epoch(model, loader, optimizer, loss_fn):
    """One pass over `loader` in training mode, one optimiser step per batch.
    Returns the mean loss over the epoch's samples (a float)."""
    # TODO
    raise NotImplementedError("train_epoch")


def evaluate(model, loader):
    """Accuracy (a float in [0, 1]) of argmax(model(x)) over all samples, in eval mode and
    without gradients."""
    # TODO
    raise NotImplementedError("evaluate")


def fit(X, y, seed=0):
    """Train a classifier of digits X (N, 64) float64 in [0, 1], y (N,) ints 0-9 with the
    functions above. Returns (model, losses): the trained nn.Module (64 features -> 10
    logits) and the list of train_epoch's losses, one per epoch. Same seed -> same losses."""
    # TODO: torch.manual_seed(seed); model; make_loader(..., shuffle=True, seed=seed); epochs
    raise NotImplementedError("fit")

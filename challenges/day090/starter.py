"""Day 90: SimCLR — augmentations, the NT-Xent loss and a short contrastive training run."""

import torch
from torch import nn


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A random view of each image of x (N, 3, H, W) float32 in [0, 1]: same shape and dtype,
    values in [0, 1], every random number drawn from `generator`, per image; x unchanged."""
    # TODO: random resized crop + horizontal flip + colour jitter, written in torch
    raise NotImplementedError("augment")


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """SimCLR's NT-Xent loss of two views' projections z1, z2 (N, D): a 0-dim tensor of their
    dtype. Raises ValueError for shapes that differ (or are not 2-D) and temperature <= 0."""
    # TODO: normalise, similarities / temperature, mask self-similarity, both directions
    raise NotImplementedError("nt_xent")


def train_simclr(encoder: nn.Module, head: nn.Module, images: torch.Tensor, *, steps: int,
                 batch_size: int, temperature: float, lr: float, seed: int) -> list[float]:
    """Train encoder and head in place with NT-Xent on pairs of views; return the loss of
    every step (Python floats). All randomness from torch.Generator().manual_seed(seed)."""
    # TODO
    raise NotImplementedError("train_simclr")

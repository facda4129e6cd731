"""Toy sequence tasks for recurrent networks (deterministic, offline)."""

from __future__ import annotations


def sign_of_sum(n: int, length: int = 15, seed: int = 0):
    """`n` sequences of ±1 steps and whether each one's sum is positive.

    Returns X, a float32 tensor (n, length, 1) of -1.0/+1.0, and y, an int64 tensor (n,)
    with 1 where the sum is > 0 (use an odd `length`: no ties). The label depends on every
    step, so a model must carry a running count through its hidden state.
    """
    import torch

    g = torch.Generator().manual_seed(seed)
    X = torch.randint(0, 2, (n, length, 1), generator=g).float() * 2 - 1
    y = (X.sum(dim=(1, 2)) > 0).long()
    return X, y

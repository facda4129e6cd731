"""Day 56: structured (channel) pruning — make the network physically smaller, then fine-tune."""

import torch
from torch import nn

from graders.data.digits_cnn import DigitsCNN


def channel_l1(weight: torch.Tensor) -> torch.Tensor:
    """L1 norm of each output unit's weights: shape (weight.shape[0],)."""
    raise NotImplementedError("channel_l1")


def prune_channels(model: DigitsCNN, keep: float = 0.5) -> DigitsCNN:
    """A new, smaller DigitsCNN keeping round(keep·n) of conv1's and conv2's output channels
    and of fc1's hidden units (largest L1 norm), with the matching weights copied over."""
    # TODO: pick the channels, build DigitsCNN(k1, k2, kh), copy the kept slices:
    #       conv2 loses input channels too; fc1 loses the input columns of removed conv2
    #       channels; fc2 loses the columns of removed hidden units
    raise NotImplementedError("prune_channels")


def finetune(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int = 2,
             lr: float = 1e-3, seed: int = 0) -> nn.Module:
    """Train the pruned model a little to recover its accuracy; return it in eval mode."""
    raise NotImplementedError("finetune")

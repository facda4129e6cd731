"""Day 77: prune and quantise a GCN; pick the pruning amount that the accuracy budget allows."""

import torch
from torch import nn


def prune_linear_layers(model: nn.Module, amount: float) -> nn.Module:
    """A copy of `model` in which each nn.Linear has the round(amount · numel) weights of
    smallest |w| set to exactly 0, permanently (plain `weight` parameters, no masks)."""
    # TODO: copy the model; per nn.Linear layer, zero the smallest-magnitude weights
    # TODO: make it permanent (torch.nn.utils.prune.remove, or write the weights yourself)
    raise NotImplementedError("prune_linear_layers")


def quantize_int8(model: nn.Module) -> nn.Module:
    """A copy of `model` with every nn.Linear dynamically quantised to int8 (qint8)."""
    # TODO: torch.ao.quantization has a one-call route for this
    raise NotImplementedError("quantize_int8")


def choose_pruning(model: nn.Module, graph, adj: torch.Tensor, amounts,
                   max_drop_pt: float) -> float:
    """The largest amount in `amounts` whose validation accuracy drop is ≤ max_drop_pt
    (0.0 when none is)."""
    # TODO: count correct validation nodes for the model and for each pruned copy;
    #       drop_pt = 100 · (correct_dense − correct_pruned) / number of validation nodes
    raise NotImplementedError("choose_pruning")

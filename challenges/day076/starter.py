"""Day 76: GraphSAGE (mean aggregator) and GAT layers, and a measured comparison."""

import torch
from torch import nn


class SAGELayer(nn.Module):
    """out_i = lin_neigh(mean of x_j over the edges j → i) + lin_self(x_i)."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        # TODO: self.lin_neigh = nn.Linear(in, out); self.lin_self = nn.Linear(in, out, bias=False)
        raise NotImplementedError("SAGELayer")

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        # TODO: mean of the incoming neighbours' features (0 for a node without any)
        raise NotImplementedError("SAGELayer.forward")


class GATLayer(nn.Module):
    """Graph attention: LeakyReLU(0.2) scores, softmax over each node's incoming edges and its
    self-loop, heads concatenated (concat=True) or averaged; plus bias."""

    def __init__(self, in_features: int, out_features: int, heads: int = 1, concat: bool = True,
                 negative_slope: float = 0.2):
        super().__init__()
        # TODO: self.lin (no bias), self.att_src / self.att_dst (1, heads, out), self.bias
        raise NotImplementedError("GATLayer")

    def attention(self, x: torch.Tensor, edge_index: torch.Tensor):
        """(edge_index with the N self-loops appended, alpha of shape (E + N, heads), ...)."""
        # TODO: scores per edge and head, softmax over the edges arriving at each node
        raise NotImplementedError("GATLayer.attention")

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        # TODO: weighted sum of h_j at each target; concat or mean the heads; add the bias
        raise NotImplementedError("GATLayer.forward")


class SAGE(nn.Module):
    """conv1 = SAGELayer → ReLU → dropout → conv2 = SAGELayer."""

    def __init__(self, in_features: int, hidden: int, num_classes: int, dropout: float = 0.5):
        super().__init__()
        raise NotImplementedError("SAGE")


class GAT(nn.Module):
    """conv1 = GATLayer(heads, concat) → ELU → dropout → conv2 = GATLayer(1 head, mean)."""

    def __init__(self, in_features: int, hidden: int, num_classes: int, heads: int = 8,
                 dropout: float = 0.6):
        super().__init__()
        raise NotImplementedError("GAT")


def compare(graph, epochs: int = 100, seed: int = 0) -> list[dict]:
    """Train "sage" and "gat" with the spec's recipes; one measured row per model."""
    # TODO: for each model: seed, build, train on the training nodes while timing the loop,
    #       then measure test accuracy in eval mode; count the parameters
    raise NotImplementedError("compare")

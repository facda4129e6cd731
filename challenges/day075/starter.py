"""Day 75: a graph convolutional layer (Kipf & Welling) and a 2-layer GCN on a citation graph."""

import torch
from torch import nn


def gcn_norm_adj(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """Â = D^-1/2 (A + I) D^-1/2 as an (N, N) float32 tensor (sparse COO or dense), where
    Â[i, j] ≠ 0 when there is an edge j → i (edge_index[0] = source, [1] = target)."""
    # TODO: add a self-loop to every node
    # TODO: degrees of A + I (count the edges arriving at each node, self-loop included)
    # TODO: weight each edge j → i by 1 / sqrt(deg_i · deg_j); row i, column j
    raise NotImplementedError("gcn_norm_adj")


class GCNLayer(nn.Module):
    """out = Â · (x Wᵀ) + bias, with self.linear = nn.Linear(in, out, bias=False) holding W
    and self.bias a Parameter of shape (out,)."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        # TODO: self.linear (no bias) and self.bias (zeros), exactly these names
        raise NotImplementedError("GCNLayer")

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        # TODO: transform the features, aggregate them with adj, add the bias
        raise NotImplementedError("GCNLayer.forward")


class GCN(nn.Module):
    """conv1 → ReLU → dropout → conv2; returns the logits (N, num_classes)."""

    def __init__(self, in_features: int, hidden: int, num_classes: int, dropout: float = 0.5):
        super().__init__()
        # TODO: self.conv1 = GCNLayer(in_features, hidden); self.conv2 = GCNLayer(hidden, classes)
        raise NotImplementedError("GCN")

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("GCN.forward")


def train_gcn(graph, hidden: int = 16, epochs: int = 100, lr: float = 0.01,
              weight_decay: float = 5e-4, seed: int = 0) -> GCN:
    """Train a GCN on graph.y[graph.train_mask] only (full-batch Adam); return it in eval mode."""
    # TODO: seed torch, build the model and Â, and train with cross-entropy on the training
    #       nodes only; the forward pass runs over the whole graph
    raise NotImplementedError("train_gcn")

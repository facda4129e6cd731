"""Day 99: sparse message passing — scatter and SpMM kernels for GNN inference."""

import torch


def scatter_aggregate(x: torch.Tensor, edge_index: torch.Tensor, aggr: str = "sum",
                      edge_weight: torch.Tensor | None = None) -> torch.Tensor:
    """out[i] = AGG over the edges j -> i of edge_weight[k] · x[j]; AGG is "sum", "mean" or
    "max"; a node without incoming edges gets 0. Shape and dtype of x."""
    # TODO: raise ValueError for any aggr other than "sum", "mean", "max"
    # TODO: one message per edge: the rows x[edge_index[0]], scaled by edge_weight if given
    # TODO: add (or reduce) them into place at edge_index[1] — index_add_ / scatter_reduce_ on
    #       a new zero tensor with x's shape and dtype; no Python loop, no N x N matrix
    # TODO: mean divides by the number of incoming edges (at least 1); max must not let the
    #       zeros you started from take part
    raise NotImplementedError("scatter_aggregate")


def csr_adjacency(edge_index: torch.Tensor, num_nodes: int,
                  edge_weight: torch.Tensor | None = None) -> torch.Tensor:
    """The (num_nodes, num_nodes) sparse CSR adjacency: A[i, j] = total weight of the edges
    j -> i (1 per edge when edge_weight is None), so that A @ x is the "sum" aggregation."""
    # TODO: rows are targets (edge_index[1]), columns sources (edge_index[0])
    # TODO: duplicates summed into one entry, columns sorted within each row; float32 values
    #       without weights, edge_weight's dtype with them
    raise NotImplementedError("csr_adjacency")


def gcn_conv(x: torch.Tensor, edge_index: torch.Tensor, weight: torch.Tensor,
             bias: torch.Tensor | None = None) -> torch.Tensor:
    """GCNConv's forward pass: Â (x weightᵀ) + bias, Â = D^-1/2 (A + I) D^-1/2, computed with
    sparse kernels (cost in edges, not nodes squared)."""
    # TODO: replace the input's self-loops by exactly one self-loop per node
    # TODO: in-degrees of A + I (edges arriving at each node, the loop included)
    # TODO: edge weights d[src]·d[dst]; transform, then aggregate with those weights
    raise NotImplementedError("gcn_conv")

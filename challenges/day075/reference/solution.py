"""Day 75 reference: the GCN layer of Kipf & Welling with symmetric normalisation, and a
2-layer GCN trained semi-supervised on the citation graph."""

import torch
import torch.nn.functional as F
from torch import nn


def gcn_norm_adj(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    # A + I: each node also keeps its own features (the self-loop)
    loops = torch.arange(num_nodes, dtype=edge_index.dtype)
    src = torch.cat([edge_index[0], loops])
    dst = torch.cat([edge_index[1], loops])
    ones = torch.ones(src.numel(), dtype=torch.float32)
    deg = torch.zeros(num_nodes, dtype=torch.float32).index_add_(0, dst, ones)  # ≥ 1
    d = deg.pow(-0.5)
    # row = target, column = source: out_i = Σ_j Â_ij h_j sums over i's neighbours j
    return torch.sparse_coo_tensor(torch.stack([dst, src]), d[dst] * d[src],
                                   (num_nodes, num_nodes)).coalesce()


class GCNLayer(nn.Module):
    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        # transform first, then aggregate: Â (X W) is cheaper than (Â X) W when out < in
        return adj @ self.linear(x) + self.bias


class GCN(nn.Module):
    def __init__(self, in_features: int, hidden: int, num_classes: int, dropout: float = 0.5):
        super().__init__()
        self.conv1 = GCNLayer(in_features, hidden)
        self.conv2 = GCNLayer(hidden, num_classes)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.conv1(x, adj))
        h = F.dropout(h, self.dropout, self.training)
        return self.conv2(h, adj)


def train_gcn(graph, hidden: int = 16, epochs: int = 100, lr: float = 0.01,
              weight_decay: float = 5e-4, seed: int = 0) -> GCN:
    torch.manual_seed(seed)  # the initial weights and the dropout masks
    model = GCN(graph.x.shape[1], hidden, graph.num_classes)
    adj = gcn_norm_adj(graph.edge_index, graph.x.shape[0])
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    mask = graph.train_mask
    model.train()
    for _ in range(epochs):
        opt.zero_grad()
        # semi-supervised: every node is propagated, only the training labels are used
        loss = F.cross_entropy(model(graph.x, adj)[mask], graph.y[mask])
        loss.backward()
        opt.step()
    return model.eval()

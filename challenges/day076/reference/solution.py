"""Day 76 reference: GraphSAGE (mean aggregator) and GAT layers written with index_add_ /
scatter_reduce, two 2-layer models, and a measured comparison on the citation graph."""

import time

import torch
import torch.nn.functional as F
from torch import nn


def mean_of_neighbours(x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    src, dst = edge_index
    total = torch.zeros_like(x).index_add_(0, dst, x[src])  # messages j → i summed at i
    ones = torch.ones(dst.numel(), dtype=x.dtype)
    count = torch.zeros(x.shape[0], dtype=x.dtype).index_add_(0, dst, ones)
    return total / count.clamp(min=1).unsqueeze(1)  # a node without neighbours gets 0


class SAGELayer(nn.Module):
    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.lin_neigh = nn.Linear(in_features, out_features)
        self.lin_self = nn.Linear(in_features, out_features, bias=False)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return self.lin_neigh(mean_of_neighbours(x, edge_index)) + self.lin_self(x)


class GATLayer(nn.Module):
    def __init__(self, in_features: int, out_features: int, heads: int = 1, concat: bool = True,
                 negative_slope: float = 0.2):
        super().__init__()
        self.heads, self.out, self.concat, self.slope = heads, out_features, concat, negative_slope
        self.lin = nn.Linear(in_features, heads * out_features, bias=False)
        self.att_src = nn.Parameter(torch.empty(1, heads, out_features))
        self.att_dst = nn.Parameter(torch.empty(1, heads, out_features))
        self.bias = nn.Parameter(torch.zeros(heads * out_features if concat else out_features))
        nn.init.xavier_uniform_(self.att_src)
        nn.init.xavier_uniform_(self.att_dst)

    def attention(self, x: torch.Tensor, edge_index: torch.Tensor):
        n = x.shape[0]
        loops = torch.arange(n, dtype=edge_index.dtype)
        src = torch.cat([edge_index[0], loops])  # every node also attends to itself
        dst = torch.cat([edge_index[1], loops])
        h = self.lin(x).view(n, self.heads, self.out)
        a_src = (h * self.att_src).sum(-1)  # (N, heads): a_srcᵀ W h_j, one per node
        a_dst = (h * self.att_dst).sum(-1)
        e = F.leaky_relu(a_src[src] + a_dst[dst], self.slope)  # (E + N, heads)
        # softmax over the edges arriving at each node; subtract the max for stability
        top = torch.full((n, self.heads), float("-inf")).scatter_reduce(
            0, dst.unsqueeze(1).expand_as(e), e, reduce="amax")
        w = (e - top[dst]).exp()
        norm = torch.zeros(n, self.heads).index_add_(0, dst, w)
        return torch.stack([src, dst]), w / norm[dst], h

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        (src, dst), alpha, h = self.attention(x, edge_index)
        out = torch.zeros_like(h).index_add_(0, dst, alpha.unsqueeze(-1) * h[src])
        out = out.reshape(x.shape[0], -1) if self.concat else out.mean(1)
        return out + self.bias


class SAGE(nn.Module):
    def __init__(self, in_features: int, hidden: int, num_classes: int, dropout: float = 0.5):
        super().__init__()
        self.conv1 = SAGELayer(in_features, hidden)
        self.conv2 = SAGELayer(hidden, num_classes)
        self.dropout = dropout

    def forward(self, x, edge_index):
        h = F.dropout(F.relu(self.conv1(x, edge_index)), self.dropout, self.training)
        return self.conv2(h, edge_index)


class GAT(nn.Module):
    def __init__(self, in_features: int, hidden: int, num_classes: int, heads: int = 8,
                 dropout: float = 0.6):
        super().__init__()
        self.conv1 = GATLayer(in_features, hidden, heads=heads, concat=True)
        self.conv2 = GATLayer(hidden * heads, num_classes, heads=1, concat=False)
        self.dropout = dropout

    def forward(self, x, edge_index):
        h = F.dropout(F.elu(self.conv1(x, edge_index)), self.dropout, self.training)
        return self.conv2(h, edge_index)


RECIPES = {  # name: (model factory, learning rate, weight decay)
    "sage": (lambda f, c: SAGE(f, 64, c), 0.01, 5e-3),
    "gat": (lambda f, c: GAT(f, 8, c), 0.005, 5e-4),
}


def compare(graph, epochs: int = 100, seed: int = 0) -> list[dict]:
    rows = []
    for name, (factory, lr, weight_decay) in RECIPES.items():
        torch.manual_seed(seed)
        net = factory(graph.x.shape[1], graph.num_classes)
        opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
        mask = graph.train_mask
        net.train()
        start = time.perf_counter()
        for _ in range(epochs):
            opt.zero_grad()
            F.cross_entropy(net(graph.x, graph.edge_index)[mask], graph.y[mask]).backward()
            opt.step()
        train_s = time.perf_counter() - start
        net.eval()
        with torch.no_grad():
            pred = net(graph.x, graph.edge_index).argmax(1)
        acc = (pred[graph.test_mask] == graph.y[graph.test_mask]).float().mean().item()
        rows.append({"model": name, "net": net, "test_acc": acc, "train_s": train_s,
                     "params": sum(p.numel() for p in net.parameters())})
    return rows

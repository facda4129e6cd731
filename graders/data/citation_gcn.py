"""A trained GCN on the citation graph, for the days that compress and profile it (77, 78).

    from graders.data.citation_gcn import CitationGCN, norm_adj, trained_gcn, accuracy
    g = load_citation_graph()
    adj = norm_adj(g)                 # Â = D^-1/2 (A + I) D^-1/2, sparse COO float32
    model = trained_gcn()             # CitationGCN(800, 256, 7), trained, eval mode
    accuracy(model, g)                # fraction of the 1000 test nodes, ~0.84

CitationGCN keeps both weight matrices in nn.Linear modules (lin1: 800 → 256, lin2: 256 → 7),
so torch's pruning and quantisation utilities apply to it as they do to an MLP; the graph
part, Â @ h, is a sparse product with no weights. The hidden layer is wide on purpose: the
dense matmul of lin1 dominates inference time, as the feature transform does in real GNNs.
The trained model is cached for the process: deep-copy it before changing it.
"""

from __future__ import annotations

import io
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

from graders.data.citation_graph import CitationGraph, load_citation_graph

HIDDEN, EPOCHS, LR, WEIGHT_DECAY, DROPOUT, SEED = 256, 60, 0.01, 5e-4, 0.5, 0


class CitationGCN(nn.Module):
    """logits = Â · lin2(dropout(relu(Â · lin1(x))))."""

    def __init__(self, in_features: int = 800, hidden: int = HIDDEN, num_classes: int = 7):
        super().__init__()
        self.lin1 = nn.Linear(in_features, hidden)
        self.lin2 = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        h = F.relu(torch.sparse.mm(adj, self.lin1(x)))
        h = F.dropout(h, DROPOUT, self.training)
        return torch.sparse.mm(adj, self.lin2(h))


def norm_adj(g: CitationGraph) -> torch.Tensor:
    """Â = D^-1/2 (A + I) D^-1/2 of the graph, a coalesced sparse COO float32 (N, N) tensor."""
    n = g.num_nodes
    loops = torch.arange(n)
    src = torch.cat([g.edge_index[0], loops])
    dst = torch.cat([g.edge_index[1], loops])
    deg = torch.bincount(dst, minlength=n).to(torch.float32)
    d = deg.pow(-0.5)
    return torch.sparse_coo_tensor(torch.stack([dst, src]), d[dst] * d[src], (n, n)).coalesce()


@lru_cache(maxsize=1)
def trained_gcn() -> CitationGCN:
    """CitationGCN trained on the 140 training nodes (full-batch Adam, seeded), eval mode."""
    g = load_citation_graph()
    adj = norm_adj(g)
    with torch.random.fork_rng():
        torch.manual_seed(SEED)
        model = CitationGCN(g.num_features, HIDDEN, g.num_classes)
        opt = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
        for _ in range(EPOCHS):
            opt.zero_grad()
            F.cross_entropy(model(g.x, adj)[g.train_mask], g.y[g.train_mask]).backward()
            opt.step()
    return model.eval()


def accuracy(model: nn.Module, g: CitationGraph | None = None, mask: str = "test_mask") -> float:
    """Fraction of the masked nodes (the 1000 test nodes by default) classified correctly."""
    g = g or load_citation_graph()
    m = getattr(g, mask)
    with torch.no_grad():
        pred = model(g.x, norm_adj(g)).argmax(1)
    return float((pred[m] == g.y[m]).float().mean())


def size_bytes(model: nn.Module) -> int:
    """Bytes of the model's state_dict as torch.save writes it (weights, scales, metadata)."""
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.getbuffer().nbytes

"""A Cora-like citation graph for the GNN days (75–78), generated, never downloaded.

    from graders.data.citation_graph import load_citation_graph
    g = load_citation_graph()
    g.x            # (2000, 800) float32 bag-of-words, 0/1 entries
    g.y            # (2000,) int64 labels 0..6
    g.edge_index   # (2, E) int64, every undirected edge in both directions, sorted
    g.train_mask   # (2000,) bool: 20 nodes per class (140), like Planetoid's Cora split
    g.val_mask     # 500 nodes;  g.test_mask: 1000 nodes; the three are disjoint

How it is made (numpy, seed 0, so the same graph on every machine): each class owns 40
"topic" words of the 800-word vocabulary; a paper uses ~18 words, 15 % of them drawn from
its class's topic words and the rest from the whole vocabulary, so the words alone classify
only about a third of the papers (a 2-layer MLP). Citations are homophilous: each node starts
one edge and 2000 more start at random nodes, and 75 % of them end at a node of the same
class. No self-loops, no duplicate edges, no isolated nodes; 7982 directed edges (3991
undirected). A 2-layer GCN reaches ~83 % on the test nodes: the graph carries the signal.

The tensors of the cached graph are shared between callers: clone before changing them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

NODES, CLASSES, VOCAB, TOPIC_WORDS = 2000, 7, 800, 40
WORDS_PER_NODE, TOPIC_SHARE = 18, 0.15
EXTRA_EDGES, HOMOPHILY = 2000, 0.75
TRAIN_PER_CLASS, VAL, TEST = 20, 500, 1000
SEED = 0
# class shares close to Cora's (one big class, a few small ones)
CLASS_SHARES = (0.13, 0.08, 0.15, 0.30, 0.16, 0.11, 0.07)


@dataclass(frozen=True)
class CitationGraph:
    x: torch.Tensor  # (N, F) float32, 0/1
    y: torch.Tensor  # (N,) int64
    edge_index: torch.Tensor  # (2, E) int64, row 0 = source, row 1 = target
    train_mask: torch.Tensor  # (N,) bool
    val_mask: torch.Tensor
    test_mask: torch.Tensor
    num_classes: int = CLASSES

    @property
    def num_nodes(self) -> int:
        return int(self.x.shape[0])

    @property
    def num_features(self) -> int:
        return int(self.x.shape[1])


def _edges(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    by_class = [np.flatnonzero(y == c) for c in range(CLASSES)]
    sources = np.concatenate([np.arange(NODES), rng.integers(0, NODES, EXTRA_EDGES)])
    targets = np.empty_like(sources)
    for k, u in enumerate(sources):
        same = rng.random() < HOMOPHILY
        pool = by_class[y[u]] if same else np.flatnonzero(y != y[u])
        v = u
        while v == u:  # no self-loops, so every node keeps the edge it starts
            v = pool[rng.integers(0, len(pool))]
        targets[k] = v
    pairs = np.stack([np.minimum(sources, targets), np.maximum(sources, targets)])
    pairs = np.unique(pairs, axis=1)  # one copy of each undirected edge
    both = np.concatenate([pairs, pairs[::-1]], axis=1)
    order = np.lexsort((both[1], both[0]))  # sorted by source, then target
    return both[:, order]


@lru_cache(maxsize=1)
def load_citation_graph() -> CitationGraph:
    """The graph (cached in memory for the process; nothing is written to disk)."""
    rng = np.random.default_rng(SEED)
    y = rng.choice(CLASSES, size=NODES, p=np.array(CLASS_SHARES) / sum(CLASS_SHARES))
    x = np.zeros((NODES, VOCAB), dtype=np.float32)
    topics = rng.permutation(VOCAB)[:CLASSES * TOPIC_WORDS].reshape(CLASSES, TOPIC_WORDS)
    for i in range(NODES):
        n_topic = rng.binomial(WORDS_PER_NODE, TOPIC_SHARE)
        words = np.concatenate([rng.choice(topics[y[i]], n_topic),
                                rng.integers(0, VOCAB, WORDS_PER_NODE - n_topic)])
        x[i, words] = 1.0
    edge_index = _edges(rng, y)
    order = rng.permutation(NODES)
    train = np.concatenate([order[y[order] == c][:TRAIN_PER_CLASS] for c in range(CLASSES)])
    rest = np.setdiff1d(order, train, assume_unique=True)
    rest = rest[rng.permutation(len(rest))]
    masks = []
    for idx in (train, rest[:VAL], rest[VAL:VAL + TEST]):
        m = np.zeros(NODES, dtype=bool)
        m[idx] = True
        masks.append(torch.from_numpy(m))
    return CitationGraph(torch.from_numpy(x), torch.from_numpy(y.astype(np.int64)),
                         torch.from_numpy(edge_index.astype(np.int64)), *masks)

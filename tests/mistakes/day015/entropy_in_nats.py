# mistake: entropy with the natural log (nats) instead of log2 (bits)
# expect: entropy is in bits

from dataclasses import dataclass

import numpy as np


def _impurity_from_counts(counts, criterion):
    """Impurity of each row of class counts (works on an (k,) or (m, k) array)."""
    counts = np.asarray(counts, dtype=float)
    total = counts.sum(axis=-1, keepdims=True)
    p = counts / np.where(total > 0, total, 1.0)
    if criterion == "gini":
        return 1.0 - (p**2).sum(axis=-1)
    if criterion == "entropy":
        logs = np.log(np.where(p > 0, p, 1.0))  # 0 · log 0 = 0
        return -(p * logs).sum(axis=-1)
    raise ValueError(f"unknown criterion {criterion!r}")


def gini(y):
    _, counts = np.unique(np.asarray(y), return_counts=True)
    return float(_impurity_from_counts(counts, "gini"))


def entropy(y):
    _, counts = np.unique(np.asarray(y), return_counts=True)
    return float(_impurity_from_counts(counts, "entropy"))


def _best_split_codes(X, codes, n_classes, criterion):
    """Best (feature, threshold, gain) for integer class codes, or None if nothing splits."""
    n = len(codes)
    parent = _impurity_from_counts(np.bincount(codes, minlength=n_classes), criterion)
    best = None
    for f in range(X.shape[1]):
        order = np.argsort(X[:, f], kind="stable")
        x, c = X[order, f], codes[order]
        onehot = np.zeros((n, n_classes))
        onehot[np.arange(n), c] = 1
        left = np.cumsum(onehot, axis=0)[:-1]  # counts left of a cut after position i
        right = left[-1] + onehot[-1] - left
        valid = x[1:] > x[:-1]  # cut only between distinct values
        if not valid.any():
            continue
        n_left = np.arange(1, n)
        children = (n_left * _impurity_from_counts(left, criterion)
                    + (n - n_left) * _impurity_from_counts(right, criterion)) / n
        gains = np.where(valid, parent - children, -np.inf)
        i = int(np.argmax(gains))  # the first maximum: the smallest threshold
        # strict ">" keeps the lowest feature index among ties
        if best is None or gains[i] > best[2] + 1e-12:
            best = (f, float((x[i] + x[i + 1]) / 2), float(gains[i]))
    return best


def best_split(X, y, criterion="gini"):
    X = np.asarray(X, dtype=float)
    _, codes = np.unique(np.asarray(y), return_inverse=True)
    return _best_split_codes(X, codes, codes.max() + 1, criterion)


@dataclass
class Node:
    counts: np.ndarray  # class counts of the training samples at this node
    feature: int | None = None  # None for a leaf
    threshold: float = 0.0  # go left when x[feature] <= threshold
    left: "Node | None" = None
    right: "Node | None" = None


class DecisionTree:
    def __init__(self, criterion="gini", max_depth=None, min_samples_split=2):
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split

    def fit(self, X, y):
        X = np.asarray(X, dtype=float)
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        self.root_ = self._grow(X, codes, depth=0)
        return self

    def _grow(self, X, codes, depth):
        k = len(self.classes_)
        node = Node(counts=np.bincount(codes, minlength=k))
        if (np.count_nonzero(node.counts) <= 1 or len(codes) < self.min_samples_split
                or (self.max_depth is not None and depth >= self.max_depth)):
            return node
        split = _best_split_codes(X, codes, k, self.criterion)
        if split is None:  # every feature is constant here
            return node
        node.feature, node.threshold, _ = split
        go_left = X[:, node.feature] <= node.threshold
        node.left = self._grow(X[go_left], codes[go_left], depth + 1)
        node.right = self._grow(X[~go_left], codes[~go_left], depth + 1)
        return node

    def _leaf(self, x):
        node = self.root_
        while node.feature is not None:
            node = node.left if x[node.feature] <= node.threshold else node.right
        return node

    def predict_proba(self, X):
        counts = np.array([self._leaf(x).counts for x in np.asarray(X, dtype=float)], dtype=float)
        return counts / counts.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def get_depth(self):
        def depth(node):
            return 0 if node.feature is None else 1 + max(depth(node.left), depth(node.right))

        return depth(self.root_)

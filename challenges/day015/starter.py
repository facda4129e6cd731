"""Day 15: a CART classification tree (gini or entropy) from scratch.

Forbidden: sklearn.tree and sklearn.ensemble. numpy is all you need.
"""

from dataclasses import dataclass

import numpy as np


def gini(y):
    """Gini impurity 1 - Σ_k p_k² of a 1-D array of class labels (any labels)."""
    # TODO: class proportions from np.unique(y, return_counts=True)
    raise NotImplementedError("gini")


def entropy(y):
    """Entropy -Σ_k p_k log2 p_k in bits (0 · log 0 = 0) of a 1-D array of class labels."""
    # TODO
    raise NotImplementedError("entropy")


def best_split(X, y, criterion="gini"):
    """The best binary split of (X (n, d) float, y (n,) labels) by impurity decrease.

    Returns (feature, threshold, gain): samples with X[:, feature] <= threshold go left;
    threshold is the midpoint between two neighbouring distinct values of that feature;
    gain = I(parent) - (n_L / n) I(left) - (n_R / n) I(right). Ties: lowest feature index,
    then smallest threshold. Returns None when every feature is constant.
    """
    # TODO: for each feature, sort the values and try every cut between distinct values
    raise NotImplementedError("best_split")


@dataclass
class Node:
    """A node of the tree. A leaf has feature None (and left = right = None)."""

    counts: np.ndarray  # (n_classes,) class counts of the training samples here, as classes_
    feature: int | None = None  # go left when x[feature] <= threshold
    threshold: float = 0.0
    left: "Node | None" = None
    right: "Node | None" = None


class DecisionTree:
    def __init__(self, criterion="gini", max_depth=None, min_samples_split=2):
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split

    def fit(self, X, y):
        """Grow the tree greedily; sets classes_ (sorted labels) and root_ (a Node); returns self.

        A node becomes a leaf when it is pure, has fewer than min_samples_split samples,
        sits at depth max_depth (the root is depth 0; None = no limit) or has no split.
        """
        # TODO
        raise NotImplementedError("DecisionTree.fit")

    def predict_proba(self, X):
        """(m, n_classes): the class fractions of the leaf each row of X falls into."""
        # TODO
        raise NotImplementedError("DecisionTree.predict_proba")

    def predict(self, X):
        """(m,) labels as given to fit: the leaf's most frequent class (ties: first in classes_)."""
        # TODO
        raise NotImplementedError("DecisionTree.predict")

    def get_depth(self):
        """The depth of the deepest leaf (a single-leaf tree has depth 0)."""
        # TODO
        raise NotImplementedError("DecisionTree.get_depth")

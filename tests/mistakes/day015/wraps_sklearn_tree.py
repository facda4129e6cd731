# mistake: wraps sklearn's DecisionTreeClassifier instead of growing the tree
# expect: the spec forbids sklearn.tree
import numpy as np
from sklearn.tree import DecisionTreeClassifier


def _counts(y):
    return np.unique(np.asarray(y), return_counts=True)[1] / len(y)


def gini(y):
    return float(1 - np.sum(_counts(y) ** 2))


def entropy(y):
    p = _counts(y)
    return float(-np.sum(p * np.log2(p)))


def best_split(X, y, criterion="gini"):
    t = DecisionTreeClassifier(criterion=criterion, max_depth=1).fit(X, y).tree_
    if t.node_count == 1:
        return None
    n = t.n_node_samples
    gain = t.impurity[0] - (n[1] * t.impurity[1] + n[2] * t.impurity[2]) / n[0]
    return int(t.feature[0]), float(t.threshold[0]), float(gain)


class Node:
    def __init__(self, counts, feature=None, threshold=0.0, left=None, right=None):
        self.counts, self.feature, self.threshold = counts, feature, threshold
        self.left, self.right = left, right


class DecisionTree:
    def __init__(self, criterion="gini", max_depth=None, min_samples_split=2):
        self.model = DecisionTreeClassifier(criterion=criterion, max_depth=max_depth,
                                            min_samples_split=min_samples_split)

    def fit(self, X, y):
        self.model.fit(X, y)
        self.classes_ = self.model.classes_
        t = self.model.tree_

        def build(i):
            counts = t.value[i][0] * t.n_node_samples[i]
            if t.children_left[i] == -1:
                return Node(np.round(counts))
            return Node(np.round(counts), int(t.feature[i]), float(t.threshold[i]),
                        build(t.children_left[i]), build(t.children_right[i]))

        self.root_ = build(0)
        return self

    def predict_proba(self, X):
        return self.model.predict_proba(X)

    def predict(self, X):
        return self.model.predict(X)

    def get_depth(self):
        return self.model.get_depth()

"""Day 16: a random forest with its out-of-bag (OOB) error.

You may use sklearn.tree.DecisionTreeClassifier for the trees; sklearn.ensemble is
forbidden.
"""

import numpy as np  # noqa: F401  (you will need it)


def bootstrap_sample(n, rng):
    """Draw n row indices with replacement from rng (a numpy Generator).

    Returns (indices, oob): indices an (n,) int array, oob an (n,) bool array that is True
    for the rows never drawn (the tree's out-of-bag rows).
    """
    # TODO
    raise NotImplementedError("bootstrap_sample")


class RandomForest:
    def __init__(self, n_estimators=100, max_features="sqrt", max_depth=None, random_state=0):
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.max_depth = max_depth
        self.random_state = random_state

    def fit(self, X, y):
        """Grow n_estimators trees, each on its own bootstrap sample; returns self.

        Sets classes_ (sorted labels), estimators_ (the trees: predict_proba(X) of each gives
        one column per class of classes_), samples_ (each tree's (n,) bootstrap indices),
        oob_decision_function_ ((n, n_classes): for each row, the mean predict_proba of the
        trees for which it is out of bag; NaN if it never is), oob_score_ (accuracy of the
        OOB predictions over the rows that have one) and oob_error_ (1 - oob_score_).
        """
        # TODO
        raise NotImplementedError("RandomForest.fit")

    def predict_proba(self, X):
        """(m, n_classes): the mean of the trees' predict_proba (soft voting)."""
        # TODO
        raise NotImplementedError("RandomForest.predict_proba")

    def predict(self, X):
        """(m,) labels: the class with the largest mean probability."""
        # TODO
        raise NotImplementedError("RandomForest.predict")

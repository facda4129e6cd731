"""Day 17: AdaBoost SAMME (multi-class AdaBoost).

You may use sklearn.tree.DecisionTreeClassifier as the weak learner; sklearn.ensemble is
forbidden.
"""

import numpy as np  # noqa: F401  (you will need it)


def weighted_error(y_true, y_pred, w):
    """The weighted error Σ w[y_true != y_pred] / Σ w (a float; w need not sum to 1)."""
    # TODO
    raise NotImplementedError("weighted_error")


def samme_alpha(error, n_classes, learning_rate=1.0):
    """The SAMME learner weight: learning_rate * (log((1 - error) / error) + log(K - 1))."""
    # TODO
    raise NotImplementedError("samme_alpha")


def update_weights(w, y_true, y_pred, alpha):
    """New sample weights: w * exp(alpha) where the learner was wrong, normalised to sum 1.

    Returns a new array; w is not modified.
    """
    # TODO
    raise NotImplementedError("update_weights")


class AdaBoostSAMME:
    def __init__(self, n_estimators=50, learning_rate=1.0, max_depth=1, random_state=0):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.random_state = random_state

    def fit(self, X, y):
        """Boost up to n_estimators trees of depth max_depth; returns self.

        Sets classes_ (sorted labels), estimators_ (the learners kept), estimator_weights_
        and estimator_errors_ (one float per learner kept, in order).
        """
        # TODO: start from uniform weights 1/n; each round fit a tree with sample_weight=w
        raise NotImplementedError("AdaBoostSAMME.fit")

    def decision_function(self, X):
        """(m, n_classes): for each class, Σ alpha of the learners voting for it / Σ alpha."""
        # TODO
        raise NotImplementedError("AdaBoostSAMME.decision_function")

    def predict(self, X):
        """(m,) labels: the class with the largest weighted vote."""
        # TODO
        raise NotImplementedError("AdaBoostSAMME.predict")

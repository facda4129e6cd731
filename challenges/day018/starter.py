"""Day 18: gradient boosting for squared loss, and a tuned HistGradientBoosting pipeline.

Allowed: sklearn.tree.DecisionTreeRegressor for the trees, and for the pipeline part
sklearn.ensemble.HistGradientBoostingRegressor, sklearn.pipeline and sklearn.model_selection.
Forbidden: sklearn.ensemble.GradientBoostingRegressor / GradientBoostingClassifier.
"""

import numpy as np  # noqa: F401  (you will need it)


def negative_gradient(y, F):
    """-dL/dF of the squared loss L = ½ (y - F)², elementwise: an (n,) float array."""
    # TODO
    raise NotImplementedError("negative_gradient")


class GradientBoostingRegressor:
    def __init__(self, n_estimators=100, learning_rate=0.1, max_depth=3, min_samples_leaf=1,
                 random_state=0):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state

    def fit(self, X, y):
        """Boost n_estimators regression trees on the negative gradient; returns self.

        Sets init_ (the initial constant prediction, a float), estimators_ (the trees, in
        order) and train_loss_ ((n_estimators,): training MSE after each tree).
        """
        # TODO: F = init_; each round fit a DecisionTreeRegressor to the negative gradient
        raise NotImplementedError("GradientBoostingRegressor.fit")

    def staged_predict(self, X):
        """Yield the (m,) predictions after each tree: n_estimators arrays in all."""
        # TODO
        raise NotImplementedError("GradientBoostingRegressor.staged_predict")

    def predict(self, X):
        """(m,) predictions: init_ + learning_rate * Σ tree.predict(X)."""
        # TODO
        raise NotImplementedError("GradientBoostingRegressor.predict")


def tuned_hist_gb(X, y, random_state=0):
    """Tune a Pipeline ending in HistGradientBoostingRegressor by cross-validation.

    Returns the fitted search (GridSearchCV or RandomizedSearchCV, refit=True) over at least
    two hyperparameters of the boosting step, with at least 3 CV folds.
    """
    # TODO
    raise NotImplementedError("tuned_hist_gb")

# mistake: fits the trees to the gradient F - y and adds them, walking uphill
# expect: negative_gradient(y, F)

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeRegressor


def negative_gradient(y, F):
    """For L = ½ (y − F)², −∂L/∂F = y − F: the residuals."""
    return np.asarray(F, dtype=float) - np.asarray(y, dtype=float)


class GradientBoostingRegressor:
    def __init__(self, n_estimators=100, learning_rate=0.1, max_depth=3, min_samples_leaf=1,
                 random_state=0):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        rng = np.random.default_rng(self.random_state)
        self.init_ = float(y.mean())  # the best constant under squared loss
        F = np.full(len(y), self.init_)
        self.estimators_, losses = [], []
        for _ in range(self.n_estimators):
            tree = DecisionTreeRegressor(max_depth=self.max_depth,
                                         min_samples_leaf=self.min_samples_leaf,
                                         random_state=int(rng.integers(2**31 - 1)))
            tree.fit(X, negative_gradient(y, F))  # leaf values = mean residual: no line search
            F += self.learning_rate * tree.predict(X)
            self.estimators_.append(tree)
            losses.append(np.mean((y - F) ** 2))
        self.train_loss_ = np.array(losses)
        return self

    def staged_predict(self, X):
        X = np.asarray(X, dtype=float)
        F = np.full(len(X), self.init_)
        for tree in self.estimators_:
            F = F + self.learning_rate * tree.predict(X)
            yield F

    def predict(self, X):
        X = np.asarray(X, dtype=float)
        F = np.full(len(X), self.init_)
        for tree in self.estimators_:
            F += self.learning_rate * tree.predict(X)
        return F


def tuned_hist_gb(X, y, random_state=0):
    pipe = Pipeline([("hgb", HistGradientBoostingRegressor(random_state=random_state))])
    grid = {"hgb__learning_rate": [0.03, 0.1], "hgb__max_depth": [2, 3]}
    search = GridSearchCV(pipe, grid, scoring="r2",
                          cv=KFold(3, shuffle=True, random_state=random_state))
    return search.fit(X, y)

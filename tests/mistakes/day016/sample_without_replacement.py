# mistake: draws the bootstrap sample without replacement (a permutation of all rows)
# expect: with replacement

import numpy as np
from sklearn.tree import DecisionTreeClassifier


def bootstrap_sample(n, rng):
    """n indices drawn with replacement, and the mask of the rows never drawn."""
    indices = rng.permutation(n)
    oob = np.ones(n, dtype=bool)
    oob[indices] = False
    return indices, oob


class RandomForest:
    def __init__(self, n_estimators=100, max_features="sqrt", max_depth=None, random_state=0):
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.max_depth = max_depth
        self.random_state = random_state

    def fit(self, X, y):
        X = np.asarray(X, dtype=float)
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        n, k = len(codes), len(self.classes_)
        rng = np.random.default_rng(self.random_state)
        self.estimators_, self.samples_ = [], []
        oob_sum, oob_count = np.zeros((n, k)), np.zeros(n)
        for _ in range(self.n_estimators):
            indices, oob = bootstrap_sample(n, rng)
            tree = DecisionTreeClassifier(max_features=self.max_features,
                                          max_depth=self.max_depth,
                                          random_state=int(rng.integers(2**31 - 1)))
            # weights = how often each row was drawn: the same tree as fitting on the
            # resampled rows, but every class stays known to it, so the columns of
            # predict_proba always line up with classes_
            tree.fit(X, codes, sample_weight=np.bincount(indices, minlength=n))
            self.estimators_.append(tree)
            self.samples_.append(indices)
            if oob.any():
                oob_sum[oob] += tree.predict_proba(X[oob])
                oob_count[oob] += 1
        with np.errstate(invalid="ignore", divide="ignore"):
            self.oob_decision_function_ = oob_sum / oob_count[:, None]  # NaN: never out of bag
        seen = oob_count > 0
        self.oob_score_ = float(np.mean(np.argmax(oob_sum[seen], axis=1) == codes[seen]))
        self.oob_error_ = 1.0 - self.oob_score_
        return self

    def predict_proba(self, X):
        X = np.asarray(X, dtype=float)
        return np.mean([tree.predict_proba(X) for tree in self.estimators_], axis=0)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

# mistake: also multiplies the correct samples by exp(-alpha) (the two-sided update)
# expect: right answers keep their weight

import numpy as np
from sklearn.tree import DecisionTreeClassifier


def weighted_error(y_true, y_pred, w):
    w = np.asarray(w, dtype=float)
    wrong = np.asarray(y_true) != np.asarray(y_pred)
    return float(w[wrong].sum() / w.sum())


def samme_alpha(error, n_classes, learning_rate=1.0):
    # the log(K - 1) term makes any learner better than chance (error < 1 - 1/K) count
    return float(learning_rate * (np.log((1 - error) / error) + np.log(n_classes - 1)))


def update_weights(w, y_true, y_pred, alpha):
    wrong = np.asarray(y_true) != np.asarray(y_pred)
    new = np.asarray(w, dtype=float) * np.exp(np.where(wrong, alpha, -alpha))
    return new / new.sum()


class AdaBoostSAMME:
    def __init__(self, n_estimators=50, learning_rate=1.0, max_depth=1, random_state=0):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.random_state = random_state

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y)
        self.classes_ = np.unique(y)
        k = len(self.classes_)
        rng = np.random.default_rng(self.random_state)
        w = np.full(len(y), 1.0 / len(y))
        self.estimators_, weights, errors = [], [], []
        for _ in range(self.n_estimators):
            stump = DecisionTreeClassifier(max_depth=self.max_depth,
                                           random_state=int(rng.integers(2**31 - 1)))
            stump.fit(X, y, sample_weight=w)
            pred = stump.predict(X)
            err = weighted_error(y, pred, w)
            if err <= 0:  # a perfect learner: keep it and stop
                self.estimators_.append(stump)
                weights.append(1.0)
                errors.append(0.0)
                break
            if err >= 1 - 1 / k:  # no better than chance: drop it and stop
                if not self.estimators_:
                    raise ValueError("the first weak learner is no better than chance")
                break
            alpha = samme_alpha(err, k, self.learning_rate)
            self.estimators_.append(stump)
            weights.append(alpha)
            errors.append(err)
            w = update_weights(w, y, pred, alpha)
        self.estimator_weights_ = np.array(weights)
        self.estimator_errors_ = np.array(errors)
        return self

    def decision_function(self, X):
        X = np.asarray(X, dtype=float)
        votes = np.zeros((len(X), len(self.classes_)))
        for stump, alpha in zip(self.estimators_, self.estimator_weights_, strict=True):
            votes[np.arange(len(X)), np.searchsorted(self.classes_, stump.predict(X))] += alpha
        return votes / self.estimator_weights_.sum()

    def predict(self, X):
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]

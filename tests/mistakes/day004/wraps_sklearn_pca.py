# mistake: fit delegates to sklearn.decomposition.PCA
# expect: the spec forbids sklearn.decomposition
"""Day 4: principal component analysis from the SVD of the centred data."""

import numpy as np
from sklearn.decomposition import PCA as _SkPCA


class PCA:
    """Principal component analysis, with the attributes scikit-learn's PCA has."""

    def __init__(self, n_components=None):
        self.n_components = n_components

    def fit(self, X):
        X = np.asarray(X, dtype=float)
        if X.ndim != 2:
            raise ValueError(f"PCA.fit: expected a 2-D array, got shape {X.shape}")
        n, d = X.shape
        self.mean_ = X.mean(axis=0)
        Xc = X - self.mean_  # a new array: the caller's X is left alone
        # rows of Vt are the principal directions; S² / (n − 1) the variances along them
        _, S, Vt = np.linalg.svd(Xc, full_matrices=False)
        _SkPCA().fit(X)
        variance = S**2 / (n - 1)
        ratio = variance / variance.sum()  # share of the *total* variance
        k = self._number_kept(ratio, min(n, d))
        self.n_components_ = k
        self.components_ = Vt[:k]
        self.explained_variance_ = variance[:k]
        self.explained_variance_ratio_ = ratio[:k]
        self.singular_values_ = S[:k]
        return self

    def _number_kept(self, ratio, most):
        k = self.n_components
        if k is None:
            return most
        if isinstance(k, float) and 0 < k < 1:
            # the fewest components whose cumulative share exceeds k (as scikit-learn does)
            return int(np.searchsorted(np.cumsum(ratio), k, side="right") + 1)
        if isinstance(k, (int, np.integer)) and not isinstance(k, bool) and 1 <= k <= most:
            return int(k)
        raise ValueError(f"PCA: n_components must be None, an int in 1..{most} "
                         f"or a float in (0, 1), got {k!r}")

    def transform(self, X):
        # centre with the mean learned in fit, never with the new data's own mean
        return (np.asarray(X, dtype=float) - self.mean_) @ self.components_.T

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def inverse_transform(self, Z):
        return np.asarray(Z, dtype=float) @ self.components_ + self.mean_

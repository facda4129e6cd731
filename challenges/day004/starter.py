"""Day 4: principal component analysis from scratch (numpy; no sklearn.decomposition)."""

import numpy as np  # noqa: F401  (the starter leaves it unused until you write the code)


class PCA:
    """PCA with scikit-learn's interface: PCA(n_components).fit(X), then transform(X)."""

    def __init__(self, n_components=None):
        # None: keep min(n_samples, n_features) components; an int k: keep k;
        # a float f in (0, 1): keep the fewest whose cumulative explained variance ratio > f
        self.n_components = n_components

    def fit(self, X):
        """Learn the principal directions of X (n_samples x n_features); return self.

        Sets mean_ (n_features,), components_ (k, n_features), explained_variance_ (k,),
        explained_variance_ratio_ (k,), singular_values_ (k,) and n_components_ (int).
        Raises ValueError for an impossible n_components. Does not modify X.
        """
        # TODO: centre X (on a copy), take its SVD (or eigh of the covariance matrix)
        # TODO: variances use n - 1; ratios divide by the total variance of all components
        raise NotImplementedError("PCA.fit")

    def transform(self, X):
        """Coordinates of X in the principal directions: shape (n_samples, k)."""
        # TODO: centre with mean_ (the training mean), then project on the components
        raise NotImplementedError("PCA.transform")

    def fit_transform(self, X):
        """fit(X), then transform(X)."""
        # TODO
        raise NotImplementedError("PCA.fit_transform")

    def inverse_transform(self, Z):
        """Map coordinates (n_samples, k) back to the original space (n_samples, n_features)."""
        # TODO
        raise NotImplementedError("PCA.inverse_transform")

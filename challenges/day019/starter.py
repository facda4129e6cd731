"""Day 19: k-means — Lloyd's algorithm with k-means++ seeding.

Forbidden: sklearn.cluster and scipy.cluster. numpy (and scipy.spatial.distance) suffice.
"""

import numpy as np  # noqa: F401  (you will need it)


def kmeans_plusplus(X, k, rng):
    """Pick k initial centres among the rows of X (n, d) by k-means++; rng: a numpy Generator.

    The first centre is a uniformly random row; each next one is row i with probability
    D(i)² / Σ D², D(i) = distance from row i to the nearest centre chosen so far.
    Returns the (k,) int array of chosen row indices, in the order chosen.
    """
    # TODO
    raise NotImplementedError("kmeans_plusplus")


def assign(X, centers):
    """(n,) int: the index of the nearest centre (Euclidean) for each row of X."""
    # TODO
    raise NotImplementedError("assign")


def lloyd(X, centers, max_iter=300):
    """Lloyd's algorithm from the given (k, d) initial centres (not modified).

    Repeat: move each centre to the mean of its points, re-assign the points; stop when the
    assignments no longer change or after max_iter updates. Returns (centers (k, d) float,
    labels (n,) int = assign(X, centers), inertia = Σ ||x - centre of x||², n_iter).
    """
    # TODO
    raise NotImplementedError("lloyd")


class KMeans:
    def __init__(self, n_clusters=8, n_init=10, max_iter=300, random_state=0):
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X):
        """n_init runs of k-means++ then Lloyd; keep the best. Returns self.

        Sets cluster_centers_, labels_, inertia_ and n_iter_ of the run with the lowest inertia.
        """
        # TODO: one rng = np.random.default_rng(random_state) for all runs
        raise NotImplementedError("KMeans.fit")

    def predict(self, X):
        """(m,) the nearest centre for each row of X."""
        # TODO
        raise NotImplementedError("KMeans.predict")

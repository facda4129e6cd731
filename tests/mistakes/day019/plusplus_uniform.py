# mistake: k-means++ picks every centre uniformly at random (plain random init)
# expect: do not follow D² sampling

import numpy as np


def _sq_dists(X, centers):
    """(n, k) squared Euclidean distances, without forming an (n, k, d) array."""
    return np.maximum((X**2).sum(1)[:, None] - 2 * X @ centers.T + (centers**2).sum(1)[None, :], 0)


def kmeans_plusplus(X, k, rng):
    X = np.asarray(X, dtype=float)
    n = len(X)
    chosen = [int(rng.integers(n))]  # the first centre: uniform
    d2 = ((X - X[chosen[0]]) ** 2).sum(1)  # squared distance to the nearest chosen centre
    for _ in range(1, k):
        nxt = int(rng.choice(np.setdiff1d(np.arange(n), chosen)))
        chosen.append(nxt)
        d2 = np.minimum(d2, ((X - X[nxt]) ** 2).sum(1))
    return np.array(chosen)


def assign(X, centers):
    return np.argmin(_sq_dists(np.asarray(X, dtype=float), np.asarray(centers, dtype=float)),
                     axis=1)


def lloyd(X, centers, max_iter=300):
    X = np.asarray(X, dtype=float)
    centers = np.array(centers, dtype=float)  # a copy: the caller's array stays as it was
    labels = assign(X, centers)
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        for j in range(len(centers)):  # M step; an empty cluster keeps its centre
            members = labels == j
            if members.any():
                centers[j] = X[members].mean(axis=0)
        new = assign(X, centers)  # E step
        if np.array_equal(new, labels):
            break
        labels = new
    inertia = float(((X - centers[labels]) ** 2).sum())
    return centers, labels, inertia, n_iter


class KMeans:
    def __init__(self, n_clusters=8, n_init=10, max_iter=300, random_state=0):
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X):
        X = np.asarray(X, dtype=float)
        rng = np.random.default_rng(self.random_state)
        best = None
        for _ in range(self.n_init):
            start = X[kmeans_plusplus(X, self.n_clusters, rng)]
            run = lloyd(X, start, self.max_iter)
            if best is None or run[2] < best[2]:  # keep the run with the lowest inertia
                best = run
        self.cluster_centers_, self.labels_, self.inertia_, self.n_iter_ = best
        return self

    def predict(self, X):
        return assign(X, self.cluster_centers_)

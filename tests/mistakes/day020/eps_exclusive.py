# mistake: neighbours are the points strictly closer than eps, not within eps
# expect: distance <= eps

import numpy as np


def _distances(X):
    X = np.asarray(X, dtype=float)
    sq = (X**2).sum(1)
    return np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0.0))


def _merge(D, sizes, i, j, linkage):
    """Distances from the union of clusters i and j to every cluster (Lance–Williams)."""
    if linkage == "single":
        return np.minimum(D[i], D[j])
    if linkage == "complete":
        return np.maximum(D[i], D[j])
    if linkage == "average":  # UPGMA: the mean over all pairs, so weight by cluster size
        return (sizes[i] * D[i] + sizes[j] * D[j]) / (sizes[i] + sizes[j])
    raise ValueError(f"unknown linkage {linkage!r}")


def _agglomerate(X, linkage, stop_at):
    """Merge the two closest clusters until stop_at remain: (merge heights, point labels)."""
    D = _distances(X)
    n = len(D)
    np.fill_diagonal(D, np.inf)
    sizes = np.ones(n)
    owner = np.arange(n)  # the cluster (a surviving row of D) each point belongs to
    heights = []
    for _ in range(n - stop_at):
        i, j = np.unravel_index(np.argmin(D), D.shape)
        i, j = min(i, j), max(i, j)
        heights.append(D[i, j])
        new = _merge(D, sizes, i, j, linkage)
        D[i, :], D[:, i] = new, new
        D[i, i] = np.inf
        D[j, :], D[:, j] = np.inf, np.inf  # cluster j is gone
        sizes[i] += sizes[j]
        owner[owner == j] = i
    return np.array(heights), np.unique(owner, return_inverse=True)[1]


def merge_distances(X, linkage="average"):
    return _agglomerate(X, linkage, stop_at=1)[0]


def agglomerative(X, n_clusters, linkage="average"):
    return _agglomerate(X, linkage, stop_at=n_clusters)[1]


def dbscan(X, eps, min_samples=5):
    D = _distances(X)
    neighbours = [np.flatnonzero(row < eps) for row in D]
    core = np.array([len(nb) >= min_samples for nb in neighbours])
    labels = np.full(len(D), -1)
    cluster = 0
    for start in range(len(D)):  # clusters are found in the order of their first core point
        if labels[start] != -1 or not core[start]:
            continue
        labels[start] = cluster
        stack = [start]
        while stack:
            p = stack.pop()
            for q in neighbours[p]:  # p is a core point: its neighbours join the cluster
                if labels[q] == -1:  # a border point keeps the first cluster that reached it
                    labels[q] = cluster
                    if core[q]:
                        stack.append(q)
        cluster += 1
    return labels, core

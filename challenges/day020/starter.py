"""Day 20: agglomerative clustering (single / complete / average linkage) and DBSCAN.

Forbidden: sklearn.cluster and scipy.cluster. Distances: numpy, scipy.spatial or
sklearn.neighbors are fine.
"""

import numpy as np  # noqa: F401  (you will need it)


def merge_distances(X, linkage="average"):
    """Agglomerate all n rows of X into one cluster; return the (n - 1,) float array of the
    linkage distance at each merge, in merge order.

    linkage: "single" (closest pair), "complete" (farthest pair) or "average" (mean over all
    pairs of points of the two clusters).
    """
    # TODO: start with n singletons; repeatedly merge the two closest clusters
    raise NotImplementedError("merge_distances")


def agglomerative(X, n_clusters, linkage="average"):
    """Merge the closest clusters until n_clusters remain; (n,) int labels 0..n_clusters-1."""
    # TODO
    raise NotImplementedError("agglomerative")


def dbscan(X, eps, min_samples=5):
    """DBSCAN. Returns (labels, core): labels (n,) int, -1 for noise, clusters 0, 1, ...;
    core (n,) bool, True for core points.

    A point is core if at least min_samples points (itself included) lie within distance
    <= eps. Clusters grow from core points through core points; a border point joins the
    first cluster that reaches it (clusters are started from core points in index order).
    """
    # TODO
    raise NotImplementedError("dbscan")

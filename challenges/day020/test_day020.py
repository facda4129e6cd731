"""Day 20 grader: agglomerative clustering and DBSCAN, labels identical to sklearn's (ARI = 1).

The data are continuous (no two pairs of points at the same distance), so the merge order
is unique; the merge heights are checked against scipy's linkage. DBSCAN is checked point by
point: the same core points, the same noise, the same clusters — including a border point
within reach of two clusters, which goes to the cluster found first (sklearn's rule).
"""

from functools import cache

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from graders import expect, forbid

FORBIDDEN = ["sklearn.cluster", "scipy.cluster"]
# what sklearn's DBSCAN and AgglomerativeClustering run: refused while the learner's code runs
SK_CLUSTERING = ("sklearn.cluster._dbscan.dbscan_inner",
                 "sklearn.cluster._agglomerative.linkage_tree")
LINKAGES = ["single", "complete", "average"]


@pytest.fixture(autouse=True)
def one_thread():
    with threadpool_limits(1):
        yield


@cache
def dataset(name):
    from sklearn import datasets

    if name == "blobs":
        X, _ = datasets.make_blobs(n_samples=150, centers=4, cluster_std=[0.5, 1.0, 1.5, 0.8],
                                   random_state=20)
    elif name == "moons":
        X, _ = datasets.make_moons(n_samples=200, noise=0.06, random_state=20)
    elif name == "noisy-blobs":
        X, _ = datasets.make_blobs(n_samples=250, centers=3, cluster_std=0.6, random_state=21)
        noise = np.random.default_rng(21).uniform(X.min(0) - 2, X.max(0) + 2, (40, 2))
        X = np.vstack([X, noise])
    elif name == "two-clusters-one-border":
        # cluster B (listed first) and cluster A; the point (1.5, 0) is a border point of both
        b = np.array([[2.4, 0.0], [2.7, 0.3], [2.7, -0.3], [3.0, 0.0], [3.3, 0.2]])
        a = np.array([[0.6, 0.0], [0.3, 0.3], [0.3, -0.3], [0.0, 0.0], [-0.3, 0.2]])
        X = np.vstack([b, a, [[1.5, 0.0]], [[1.5, 3.0]]])
    elif name == "grid":  # unit spacing: many distances are exactly eps = 1
        X = np.array([[x, y] for x in range(6) for y in range(3)], dtype=float)
        X = np.vstack([X, [[10.0, 10.0], [10.0, 11.0]]])
    return X


def ari(a, b):
    from sklearn.metrics import adjusted_rand_score

    return adjusted_rand_score(a, b)


def guarded(fn, *args):
    with forbid.calls(*SK_CLUSTERING):
        return fn(*args)


def test_no_library_clustering(solution_dir):
    forbid.assert_not_used(solution_dir, FORBIDDEN, why="write the clustering yourself")


@pytest.mark.parametrize("linkage", LINKAGES)
def test_merge_distances_match_scipy(solution, linkage):
    from scipy.cluster.hierarchy import linkage as scipy_linkage

    X = dataset("blobs")
    got = expect.array(guarded(solution.merge_distances, X.copy(), linkage), "merge_distances")
    want = scipy_linkage(X, method=linkage)[:, 2]
    assert got.shape == want.shape, (
        f"merge_distances has shape {got.shape}; expected n - 1 = {len(want)} merges"
    )
    expect.close(got, want, rtol=1e-9, atol=1e-12, oracle=f"scipy linkage(method='{linkage}')",
                 what=f"the merge distances ({linkage} linkage; average means the mean over all "
                      "pairs of points, i.e. size-weighted)")


@pytest.mark.parametrize("linkage", LINKAGES)
@pytest.mark.parametrize("name,k", [("blobs", 4), ("moons", 2), ("blobs", 7)])
def test_agglomerative_labels_match_sklearn(solution, name, k, linkage):
    from sklearn.cluster import AgglomerativeClustering

    X = dataset(name)
    got = np.asarray(guarded(solution.agglomerative, X.copy(), k, linkage))
    assert got.shape == (len(X),), f"agglomerative must return (n,) labels, got {got.shape}"
    assert len(np.unique(got)) == k, f"{len(np.unique(got))} clusters, expected n_clusters={k}"
    assert sorted(np.unique(got).tolist()) == list(range(k)), (
        f"agglomerative's labels are {np.unique(got).tolist()[:8]}: number the clusters "
        f"0 … {k - 1} (n_clusters − 1)")
    assert np.issubdtype(got.dtype, np.integer), f"labels have dtype {got.dtype}, not int"
    want = AgglomerativeClustering(n_clusters=k, linkage=linkage).fit(X).labels_
    score = ari(got, want)
    assert score == pytest.approx(1.0), (
        f"{linkage} linkage on {name} with {k} clusters: ARI {score:.4f} vs sklearn's labels "
        "(should be 1: the same partition)"
    )


@pytest.mark.parametrize("name,eps,min_samples", [("moons", 0.12, 5), ("noisy-blobs", 0.5, 6),
                                                  ("noisy-blobs", 0.9, 10), ("grid", 1.0, 4),
                                                  ("grid", 1.0, 5), ("moons", 0.08, 1)])
def test_dbscan_matches_sklearn(solution, name, eps, min_samples):
    from sklearn.cluster import DBSCAN

    X = dataset(name)
    result = guarded(solution.dbscan, X.copy(), eps, min_samples)
    assert isinstance(result, tuple) and len(result) == 2, "dbscan must return (labels, core)"
    labels, core = np.asarray(result[0]), np.asarray(result[1])
    assert core.dtype == bool, f"core has dtype {core.dtype}; the spec asks for a bool array"
    assert np.issubdtype(labels.dtype, np.integer), f"labels have dtype {labels.dtype}, not int"
    sk = DBSCAN(eps=eps, min_samples=min_samples).fit(X)
    where = f"{name}, eps={eps}, min_samples={min_samples}"
    want_core = np.zeros(len(X), dtype=bool)
    want_core[sk.core_sample_indices_] = True
    assert np.array_equal(core, want_core), (
        f"{where}: core points differ from sklearn's on {np.sum(core != want_core)} points "
        "(a point is core when at least min_samples points, itself included, lie within "
        "distance <= eps)"
    )
    noise, want_noise = labels == -1, sk.labels_ == -1
    assert np.array_equal(noise, want_noise), (
        f"{where}: noise (label -1) differs from sklearn's on {np.sum(noise != want_noise)} "
        "points (noise = neither core nor within eps of a core point: only core points "
        "spread a cluster)"
    )
    score = ari(labels[~noise], sk.labels_[~noise]) if (~noise).any() else 1.0
    assert score == pytest.approx(1.0), (
        f"{where}: ARI {score:.4f} vs sklearn's clusters (a cluster grows only through its core "
        "points; a border point keeps the first cluster that reaches it)"
    )


def test_dbscan_border_point_goes_to_the_first_cluster(solution):
    from sklearn.cluster import DBSCAN

    X = dataset("two-clusters-one-border")
    labels, core = (np.asarray(a) for a in guarded(solution.dbscan, X.copy(), 1.0, 4))
    want = DBSCAN(eps=1.0, min_samples=4).fit(X).labels_
    assert want[10] == want[0] != want[5], "grader: the border point should join cluster B"
    assert not core[10], "the point (1.5, 0) has only 3 points within eps: it is not core"
    assert labels[10] != -1, "the point (1.5, 0) is within eps of core points: a border point"
    assert labels[10] == labels[0] and labels[10] != labels[5], (
        "the border point (1.5, 0) is within reach of both clusters: it belongs to the one found "
        "first (the cluster of the lowest-index core point, here B, rows 0-4), and keeps it"
    )
    assert labels[11] == -1, "the point (1.5, 3) is far from everything: noise, label -1"

"""Day 19 grader: k-means (Lloyd + k-means++) against sklearn's KMeans and closed forms.

From the same initial centres Lloyd's algorithm is deterministic, so labels, centres and
inertia must equal sklearn's (algorithm="lloyd", tol=0). k-means++ is random: its D²
sampling is checked with a chi-square test of the exact selection probabilities.
"""

from functools import cache
from itertools import permutations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from graders import expect, forbid

FORBIDDEN = ["sklearn.cluster", "scipy.cluster"]
# what sklearn's KMeans runs: refused while the learner's code runs
SK_KMEANS = ("sklearn.cluster._kmeans._kmeans_single_lloyd",
             "sklearn.cluster._kmeans._kmeans_single_elkan",
             "sklearn.cluster._kmeans._kmeans_plusplus")
PP_POINTS = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [4.0, 4.0], [5.0, 4.0], [9.0, 0.0]])
P_MIN = 1e-4  # chi-square p-value below which the sampling is rejected


@pytest.fixture(autouse=True)
def one_thread():
    """BLAS / OpenMP threads on a shared 2-core machine only thrash: run on one."""
    with threadpool_limits(1):
        yield


@cache
def digits():
    from sklearn.datasets import load_digits

    return load_digits().data


@cache
def blobs():
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=400, centers=4, cluster_std=1.5, random_state=19)
    return X


def data(name):
    return digits() if name == "digits" else blobs()


def start(name, k, seed):
    """Initial centres: k distinct data rows chosen by a seeded generator, moved a little
    (digits are integers: unmoved, many points would be exactly as far from two centres)."""
    X = data(name)
    rng = np.random.default_rng(seed)
    return X[rng.choice(len(X), size=k, replace=False)] + rng.normal(0, 0.01, (k, X.shape[1]))


@cache
def sk_lloyd(name, k, seed, max_iter=300):
    from sklearn.cluster import KMeans

    return KMeans(k, init=start(name, k, seed), n_init=1, algorithm="lloyd", tol=0.0,
                  max_iter=max_iter).fit(data(name))


def guarded(fn, *args):
    with forbid.calls(*SK_KMEANS):
        return fn(*args)


def unpack(result, what):
    assert isinstance(result, tuple) and len(result) == 4, (
        f"{what} must return (centers, labels, inertia, n_iter)"
    )
    centers, labels, inertia, n_iter = result
    return expect.array(centers, what), np.asarray(labels), float(inertia), int(n_iter)


def test_no_library_clustering(solution_dir):
    forbid.assert_not_used(solution_dir, FORBIDDEN, why="write k-means yourself")


def test_assign_is_nearest_centre(solution):
    from scipy.spatial.distance import cdist

    X = blobs()
    C = start("blobs", 4, 0)
    expect.close(solution.assign(X, C), cdist(X, C).argmin(axis=1), rtol=0, atol=0,
                 what="assign(X, centers)", oracle="argmin of the Euclidean distances")


@pytest.mark.parametrize("name,k,seed", [("digits", 10, 0), ("digits", 10, 1), ("digits", 8, 2),
                                         ("blobs", 4, 3), ("blobs", 6, 4)])
def test_lloyd_from_the_same_start_equals_sklearn(solution, name, k, seed):
    X = data(name)
    C0 = start(name, k, seed)
    before = C0.copy()
    centers, labels, inertia, n_iter = unpack(guarded(solution.lloyd, X, C0, 300), "lloyd")
    assert np.array_equal(C0, before), "lloyd modified the initial centres passed to it"
    sk = sk_lloyd(name, k, seed)
    where = f"{name}, k={k}, start {seed}"
    expect.close(inertia, sk.inertia_, rtol=1e-9, atol=0, oracle="sklearn KMeans(init=same start)",
                 what=f"inertia (Σ squared distances to the assigned centre) on {where}")
    assert np.array_equal(labels, sk.labels_), (
        f"labels differ from sklearn's on {np.sum(labels != sk.labels_)} points ({where})"
    )
    expect.close(centers, sk.cluster_centers_, rtol=0, atol=1e-9 * np.abs(X).max(),
                 what=f"centers on {where}", oracle="sklearn KMeans(init=same start)")
    assert 1 <= n_iter <= 300, f"n_iter is {n_iter}; expected between 1 and max_iter"


def test_lloyd_converges_to_a_fixed_point(solution):
    X = digits()
    centers, labels, _, _ = unpack(guarded(solution.lloyd, X, start("digits", 10, 5), 300), "lloyd")
    for j in range(10):
        expect.close(centers[j], X[labels == j].mean(axis=0), rtol=0, atol=1e-9,
                     what=f"centre {j} after convergence", oracle="the mean of its points")
    from scipy.spatial.distance import cdist

    nearest = cdist(X, centers).argmin(axis=1)
    assert np.array_equal(labels, nearest), (
        f"{np.sum(labels != nearest)} points are not assigned to their nearest centre after "
        "convergence"
    )


def test_inertia_never_increases_and_max_iter_is_obeyed(solution):
    X = digits()
    C0 = start("digits", 10, 6)
    inertias = []
    for t in (1, 2, 3, 5, 8):
        centers, labels, inertia, n_iter = unpack(guarded(solution.lloyd, X, C0, t),
                                                  f"lloyd(max_iter={t})")
        assert n_iter <= t, f"lloyd(max_iter={t}) reports n_iter={n_iter}"
        sk = sk_lloyd("digits", 10, 6, t)
        assert np.array_equal(labels, sk.labels_), (
            f"with max_iter={t}, labels must be the nearest final centres, as sklearn's are "
            f"({np.sum(labels != sk.labels_)} differ)"
        )
        expect.close(inertia, sk.inertia_, rtol=1e-9, atol=0,
                     what=f"inertia after max_iter={t} (labels re-assigned to the final centres)",
                     oracle=f"sklearn KMeans(max_iter={t})")
        inertias.append(inertia)
    assert all(b <= a * (1 + 1e-12) for a, b in zip(inertias, inertias[1:], strict=False)), (
        f"inertia must never increase with more iterations: {np.round(inertias, 1).tolist()}"
    )


def pp_probabilities(k):
    """Exact probability of every ordered k-tuple of rows under k-means++ on PP_POINTS."""
    X = PP_POINTS
    n = len(X)
    d2 = ((X[:, None] - X[None]) ** 2).sum(-1)
    probs = {}
    for seq in permutations(range(n), k):
        p = 1 / n
        nearest = d2[seq[0]].copy()
        for nxt in seq[1:]:
            p *= nearest[nxt] / nearest.sum()
            nearest = np.minimum(nearest, d2[nxt])
        probs[seq] = p
    return probs


@pytest.mark.parametrize("k,draws", [(2, 4000), (3, 6000)])
def test_kmeans_plusplus_samples_by_squared_distance(solution, k, draws):
    from scipy.stats import chisquare

    probs = pp_probabilities(k)
    counts = dict.fromkeys(probs, 0)
    for seed in range(draws):
        got = tuple(int(i) for i in np.asarray(solution.kmeans_plusplus(PP_POINTS, k,
                                                                       np.random.default_rng(seed))))
        assert got in counts, (
            f"kmeans_plusplus returned {got}: expected {k} distinct row indices of X (a chosen "
            "centre is at distance 0 from the nearest centre, so D² sampling never picks it twice)"
        )
        counts[got] += 1
    keys = list(probs)
    observed = np.array([counts[s] for s in keys], dtype=float)
    expected = np.array([probs[s] for s in keys]) * draws
    p = chisquare(observed, expected).pvalue
    worst = keys[int(np.argmax(np.abs(observed - expected) / np.sqrt(expected)))]
    assert p > P_MIN, (
        f"k-means++ choices (k={k}, {draws} seeds) do not follow D² sampling (chi-square "
        f"p = {p:.2g}): e.g. {worst} came up {counts[worst]} times, expected "
        f"{probs[worst] * draws:.0f} (first centre uniform, each next one with probability "
        "∝ squared distance to the nearest centre chosen so far)"
    )


def test_kmeans_matches_sklearn_inertia(solution, record_metric):
    from sklearn.cluster import KMeans as SkKMeans

    X = digits()
    with forbid.calls(*SK_KMEANS):
        model = solution.KMeans(n_clusters=10, n_init=10, random_state=0).fit(X)
        again = solution.KMeans(n_clusters=10, n_init=10, random_state=0).fit(X)
    sk = SkKMeans(10, n_init=10, random_state=0).fit(X)
    record_metric("inertia", model.inertia_, target=f"<= {1.01 * sk.inertia_:.6g}")
    record_metric("sklearn_inertia", sk.inertia_)
    assert model.inertia_ <= 1.01 * sk.inertia_, (
        f"KMeans(10, n_init=10) inertia {model.inertia_:.6g} is more than 1 % above sklearn's "
        f"{sk.inertia_:.6g} (keep the run with the lowest inertia)"
    )
    centers = expect.array(model.cluster_centers_, "cluster_centers_")
    want = float(((X - centers[np.asarray(model.labels_)]) ** 2).sum())
    expect.close(model.inertia_, want, rtol=1e-9, atol=0, what="inertia_",
                 oracle="Σ squared distances of the points to their centres (labels_)")
    assert np.array_equal(model.predict(X), model.labels_), "predict(X) must equal labels_"
    assert np.array_equal(again.labels_, model.labels_), "the same random_state gave other labels"


def test_an_empty_cluster_keeps_its_centre(solution):
    X = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 5.0], [5.0, 6.0]])
    start = np.array([[0.0, 0.2], [5.0, 5.2], [100.0, 100.0]])  # no point is nearest to (100, 100)
    centers, labels, _, _ = unpack(guarded(solution.lloyd, X, start.copy(), 10), "lloyd")
    assert np.array_equal(centers[2], [100.0, 100.0]), (
        f"the centre (100, 100), which no point is nearest to, moved to {centers[2].tolist()}: "
        "the spec keeps an empty cluster's centre where it is (unlike sklearn, which relocates it)")
    assert labels.tolist() == [0, 0, 1, 1], f"labels {labels.tolist()}, expected [0, 0, 1, 1]"


def test_fit_runs_the_protocol_with_one_generator(solution):
    # KMeans.fit must be exactly: one default_rng(random_state), then n_init times
    # kmeans_plusplus(X, k, rng) and lloyd(X, X[chosen], max_iter), keeping the lowest inertia
    X = blobs()
    rng = np.random.default_rng(5)
    runs = []
    for _ in range(4):
        chosen = np.asarray(guarded(solution.kmeans_plusplus, X, 6, rng))
        runs.append(unpack(guarded(solution.lloyd, X, X[chosen], 2), "lloyd")[2])
    model = guarded(solution.KMeans(6, n_init=4, max_iter=2, random_state=5).fit, X)
    expect.close(model.inertia_, min(runs), rtol=1e-12, atol=0, what="KMeans(6, n_init=4, "
                 "max_iter=2, random_state=5).inertia_",
                 oracle="your kmeans_plusplus + lloyd run 4 times from ONE generator, max_iter=2")

"""Day 23 grader: UMAP through umap-learn against your own t-SNE, scored the same way.

Oracles: scikit-learn's trustworthiness and nearest-neighbour search, and umap-learn
itself (the same parameters and seed must give the same embedding).
"""

import importlib.util

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from graders import expect, forbid, requires

# Small matrices: one BLAS thread is as fast, and immune to a loaded machine.
threadpool_limits(1)

N = 300
TRUST_MIN = 0.95
KNN_MIN = 0.90
FORBIDDEN = ["sklearn.manifold", "openTSNE", "MulticoreTSNE", "tsnecuda"]


def digits(n=N):
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data[:n].astype(float), d.target[:n]


def oracle_knn_accuracy(Y, labels, k):
    from sklearn.neighbors import NearestNeighbors

    knn = NearestNeighbors(n_neighbors=k).fit(Y).kneighbors(return_distance=False)
    classes, codes = np.unique(labels, return_inverse=True)
    votes = np.array([np.bincount(codes[row], minlength=len(classes)) for row in knn])
    return float(np.mean(np.argmax(votes, axis=1) == codes))


def need_umap():
    """Skip (recorded with its reason) where umap-learn is missing; finding it imports nothing."""
    if importlib.util.find_spec("umap") is None:
        requires.package("umap", "umap-learn")


def library_umap(X, n_neighbors, min_dist, random_state):
    import umap

    return umap.UMAP(n_neighbors=n_neighbors, min_dist=min_dist, n_components=2,
                     random_state=random_state).fit_transform(X)


@pytest.fixture
def no_library_shortcuts(monkeypatch):
    """scikit-learn's TSNE and trustworthiness refuse to run, however they were imported."""
    from sklearn.manifold import TSNE

    def refuse(*_args, **_kwargs):
        raise forbid.ForbiddenCall("the spec forbids calling sklearn.manifold.TSNE: "
                                   "use your own t-SNE from day 22")

    for name in ("fit", "fit_transform", "_fit"):
        monkeypatch.setattr(TSNE, name, refuse)
    with forbid.calls("sklearn.manifold.trustworthiness"):
        yield


# ---- rules -------------------------------------------------------------------------------------


def test_no_library_tsne_or_trustworthiness(solution_dir):
    forbid.assert_not_used(solution_dir, FORBIDDEN,
                           why="t-SNE and trustworthiness are yours; UMAP comes from umap-learn")


# ---- the scores ----------------------------------------------------------------------------------


def noisy_projection(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, X[:, :2] + 0.5 * rng.normal(size=(n, 2))


@pytest.mark.parametrize("n,d,k", [(40, 5, 1), (60, 6, 5), (150, 10, 10), (90, 3, 20)])
def test_trustworthiness_matches_sklearn(solution, no_library_shortcuts, n, d, k):
    from sklearn.manifold._t_sne import trustworthiness as oracle  # the patch hides the public one

    X, Y = noisy_projection(n, d, seed=n + k)
    got = solution.trustworthiness(X.copy(), Y.copy(), n_neighbors=k)
    expect.close(got, oracle(X, Y, n_neighbors=k), what=f"trustworthiness, n={n}, k={k}",
                 rtol=1e-9, atol=1e-12, oracle="sklearn.manifold.trustworthiness")


def test_trustworthiness_of_a_perfect_and_a_reversed_embedding(solution, no_library_shortcuts):
    x = np.linspace(0.0, 1.0, 30) ** 2  # distinct gaps: no ties
    X = x[:, None]
    expect.close(solution.trustworthiness(X, X.copy(), n_neighbors=4), 1.0,
                 what="trustworthiness of an embedding identical to the data", oracle="1")
    from sklearn.manifold._t_sne import trustworthiness as oracle

    Y = np.random.default_rng(1).permutation(x)[:, None]
    expect.close(solution.trustworthiness(X, Y, n_neighbors=4), oracle(X, Y, n_neighbors=4),
                 what="trustworthiness of a shuffled 1-D embedding", rtol=1e-9,
                 oracle="sklearn.manifold.trustworthiness")


@pytest.mark.parametrize("k", [1, 4, 5, 9])
def test_knn_accuracy_matches_leave_one_out_oracle(solution, k):
    rng = np.random.default_rng(30 + k)
    labels = rng.integers(0, 4, size=120)
    Y = rng.normal(size=(120, 2)) + 1.2 * np.c_[np.cos(labels), np.sin(labels)]
    got = solution.knn_accuracy(Y.copy(), labels.copy(), k=k)
    expect.close(got, oracle_knn_accuracy(Y, labels, k), what=f"knn_accuracy with k={k}",
                 rtol=0, atol=1e-12,
                 oracle="leave-one-out k-NN (the point itself is not its own neighbour; "
                        "ties between labels go to the smallest label)")


def test_knn_accuracy_with_string_labels(solution):
    Y = np.array([[0.0], [0.1], [0.3], [5.0], [5.2], [5.5], [2.6]])
    labels = np.array(["b", "b", "a", "a", "a", "b", "a"])
    expect.close(solution.knn_accuracy(Y, labels, k=2), oracle_knn_accuracy(Y, labels, 2),
                 what="knn_accuracy on string labels with 1-1 vote ties", rtol=0,
                 oracle="leave-one-out 2-NN, ties to the smallest label")


# ---- the embeddings -------------------------------------------------------------------------


# t-SNE first: a few seconds, while the first UMAP fit compiles umap's layout kernels
# (not cacheable), most of the grade
def test_tsne_embedding_is_seeded(solution, no_library_shortcuts):
    X = digits(80)[0]
    a = expect.array(solution.tsne_embedding(X.copy(), random_state=4), "tsne_embedding")
    b = expect.array(solution.tsne_embedding(X.copy(), random_state=4), "tsne_embedding")
    assert a.shape == (80, 2), f"tsne_embedding returned shape {a.shape}, expected (80, 2)"
    assert np.array_equal(a, b), "tsne_embedding with the same random_state must be reproducible"
    c = expect.array(solution.tsne_embedding(X.copy(), random_state=5), "tsne_embedding")
    assert not np.array_equal(a, c), (
        "tsne_embedding gave the same embedding for random_state=4 and 5: the initial "
        "positions must come from a generator seeded with random_state, not a fixed seed")


def test_umap_embedding_is_umap_learn_with_your_parameters(solution):
    need_umap()
    X = digits(150)[0]
    got = expect.array(solution.umap_embedding(X.copy(), n_neighbors=8, min_dist=0.5,
                                               random_state=3), "umap_embedding")
    want = library_umap(X, n_neighbors=8, min_dist=0.5, random_state=3)
    assert got.shape == want.shape, f"umap_embedding returned shape {got.shape}, expected (150, 2)"
    assert np.allclose(got, want, atol=1e-5), (
        "umap_embedding(X, n_neighbors=8, min_dist=0.5, random_state=3) is not what "
        "umap.UMAP(n_neighbors=8, min_dist=0.5, n_components=2, random_state=3).fit_transform(X) "
        f"gives (max difference {np.abs(got - want).max():.3g}): pass every parameter through, "
        "random_state included, and do not transform X first")


# ---- the comparison table --------------------------------------------------------------


# Not compare's default (0): a compare that ignores its random_state shows.
SEED = 1


@pytest.fixture(scope="module")
def table(solution):
    need_umap()
    X, y = digits()
    mp = pytest.MonkeyPatch()
    tsne_seeds = []
    try:
        from sklearn.manifold import TSNE

        for name in ("fit", "fit_transform", "_fit"):
            mp.setattr(TSNE, name, _refuse_tsne)
        # Records the seed compare passes when it calls tsne_embedding by name, as the spec says.
        own_tsne = solution.tsne_embedding

        def recording_tsne(*args, **kwargs):
            tsne_seeds.append(args[2] if len(args) > 2 else kwargs.get("random_state", 0))
            return own_tsne(*args, **kwargs)

        mp.setattr(solution, "tsne_embedding", recording_tsne)
        with forbid.calls("sklearn.manifold.trustworthiness"):
            result = solution.compare(X.copy(), y.copy(), random_state=SEED)
    finally:
        mp.undo()
    assert isinstance(result, dict) and set(result) == {"umap", "tsne"}, (
        f"compare must return a dict with keys 'umap' and 'tsne', got {_keys(result)}")
    for method, row in result.items():
        want = {"embedding", "trustworthiness", "knn_accuracy", "seconds"}
        assert isinstance(row, dict) and set(row) >= want, (
            f"compare()['{method}'] must be a dict with keys {sorted(want)}, got {_keys(row)}")
    return X, y, result, tsne_seeds


def _refuse_tsne(*_args, **_kwargs):
    raise forbid.ForbiddenCall("the spec forbids calling sklearn.manifold.TSNE: "
                               "use your own t-SNE from day 22")


def _keys(value):
    return sorted(value) if isinstance(value, dict) else type(value).__name__


@pytest.mark.parametrize("method", ["umap", "tsne"])
def test_compare_scores_are_the_scores_of_its_embeddings(table, method, record_metric):
    from sklearn.manifold import trustworthiness as oracle_trust

    X, y, result, _ = table
    row = result[method]
    Y = expect.array(row["embedding"], f"compare()['{method}']['embedding']")
    assert Y.shape == (N, 2) and np.all(np.isfinite(Y)), (
        f"{method} embedding must be a finite ({N}, 2) array, got shape {Y.shape}")
    trust, acc = oracle_trust(X, Y, n_neighbors=10), oracle_knn_accuracy(Y, y, 5)
    for name, value, unit in (("trustworthiness@10", row["trustworthiness"], ""),
                              ("5-NN accuracy", row["knn_accuracy"], ""),
                              ("seconds", row["seconds"], "s")):
        record_metric(f"{method} {name}", float(value), unit=unit)
    # digits have tied distances: the order among ties may differ from scikit-learn's
    expect.close(row["trustworthiness"], trust, what=f"{method} trustworthiness (k=10)",
                 rtol=0, atol=1e-3, oracle="sklearn.manifold.trustworthiness of that embedding")
    expect.close(row["knn_accuracy"], acc, what=f"{method} 5-NN accuracy", rtol=0,
                 atol=1.5 / N, oracle="leave-one-out 5-NN on that embedding")
    assert float(row["seconds"]) > 0, f"{method} seconds must be the measured wall time (> 0)"


def test_compare_passes_its_random_state_to_tsne(table):
    # recorded only where compare calls tsne_embedding by name; UMAP's seed is checked below
    seeds = table[3]
    assert all(seed == SEED for seed in seeds), (
        f"compare(X, labels, random_state={SEED}) called tsne_embedding with random_state "
        f"{seeds}: pass compare's random_state through")


def test_compare_umap_is_umap_learn(table):
    X, _, result, _ = table
    want = library_umap(X, n_neighbors=15, min_dist=0.1, random_state=SEED)
    got = expect.array(result["umap"]["embedding"], "compare()['umap']['embedding']")
    assert got.shape == want.shape and np.allclose(got, want, atol=1e-5), (
        f"compare(X, labels, random_state={SEED})['umap'] is not umap.UMAP(n_neighbors=15, "
        f"min_dist=0.1, random_state={SEED}) of X: use umap-learn with the default parameters "
        "of umap_embedding and pass compare's random_state through")


@pytest.mark.parametrize("method", ["umap", "tsne"])
def test_both_embeddings_keep_digit_neighbourhoods(table, method):
    X, y, result, _ = table
    from sklearn.manifold import trustworthiness as oracle_trust

    Y = np.asarray(result[method]["embedding"], dtype=float)
    trust, acc = oracle_trust(X, Y, n_neighbors=10), oracle_knn_accuracy(Y, y, 5)
    assert trust >= TRUST_MIN, (
        f"{method}: trustworthiness (k=10) on digits[:{N}] is {trust:.3f} < {TRUST_MIN}")
    assert acc >= KNN_MIN, f"{method}: leave-one-out 5-NN accuracy is {acc:.3f} < {KNN_MIN}"

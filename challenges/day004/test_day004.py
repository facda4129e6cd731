"""Day 4 grader: PCA from scratch on the digits, checked against scikit-learn's PCA."""

from functools import cache

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA as SkPCA
from threadpoolctl import threadpool_limits

from graders import expect, forbid

# Small matrices: one BLAS thread is as fast, and steady when the machine is shared.
threadpool_limits(1)

BANNED = ["sklearn.decomposition", "sklearn.utils", "sklearn.covariance",
          "sklearn.preprocessing", "torch"]
RTOL = 1e-6  # explained variances, ratios, singular values
ATOL_VECTORS = 1e-6  # components (after fixing signs), per entry


@cache
def _digits():
    return load_digits().data  # 1797 × 64, pixel values 0..16


def digits():
    return _digits().copy()


def fitted(solution, X, n_components):
    """The learner's PCA fitted on X, checking that fit returns self and leaves X alone."""
    before = X.copy()
    model = solution.PCA(n_components=n_components)
    returned = model.fit(X)
    assert returned is model, "PCA.fit must return self (so that PCA(k).fit(X).transform(X) works)"
    assert np.array_equal(X, before), (
        "PCA.fit modified its input (X -= mean centres the caller's array); centre a copy")
    for name in ("mean_", "components_", "explained_variance_", "explained_variance_ratio_",
                 "singular_values_", "n_components_"):
        assert hasattr(model, name), f"after fit, PCA has no attribute {name}"
        values = getattr(model, name)
        # named here, not as an oracle's LinAlgError several checks later
        if not isinstance(values, str) and not np.all(np.isfinite(np.asarray(values, float))):
            raise AssertionError(expect.non_finite(values, f"PCA.fit's {name}"))
    return model


def oracle(X, n_components):
    return SkPCA(n_components=n_components, svd_solver="full").fit(X)


def signs(mine, theirs, label):
    """Per-component signs s with s·mine ≈ theirs; fails if a component is not theirs at all."""
    C = expect.array(mine.components_, "components_")
    k, d = theirs.components_.shape
    assert C.shape == (k, d), (
        f"components_ of {label} has shape {C.shape}, expected {(k, d)}: one principal "
        "direction per row")
    dots = np.sum(C * theirs.components_, axis=1)
    return np.where(dots < 0, -1.0, 1.0)


def test_forbidden_routines_are_not_used(solution_dir):
    forbid.assert_not_used(solution_dir, BANNED, why="write PCA yourself with numpy")


def test_mean_is_the_column_mean(solution):
    X = digits()
    model = fitted(solution, X, 10)
    expect.close(model.mean_, X.mean(axis=0), what="mean_ of the digits", rtol=1e-12, atol=1e-12,
                 oracle="X.mean(axis=0)")


@pytest.mark.parametrize("k", [2, 10, None])
def test_explained_variance_matches_sklearn(solution, k):
    X = digits()
    mine, theirs = fitted(solution, X, k), oracle(X, k)
    n = X.shape[0]
    got = expect.array(mine.explained_variance_, "explained_variance_")
    want = theirs.explained_variance_
    label = f"explained_variance_ of the digits (n_components={k})"
    assert got.shape == want.shape, f"{label} has shape {got.shape}, expected {want.shape}"
    tol = dict(rtol=RTOL, atol=1e-9 * want[0])
    if np.allclose(got, want * (n - 1) / n, **tol):
        raise AssertionError(f"{label} is the biased variance (divided by n = {n}); "
                             f"the spec asks for the sample variance, divided by n − 1 = {n - 1}")
    raw = np.linalg.svd(X, compute_uv=False)[: len(want)] ** 2 / (n - 1)
    if np.allclose(got, raw, **tol):
        raise AssertionError(f"{label} comes from the uncentred data: subtract mean_ from X "
                             "before the SVD (or use the covariance matrix)")
    expect.close(got, want, what=label, oracle="sklearn PCA", **tol)


@pytest.mark.parametrize("k", [2, 10])
def test_explained_variance_ratio_is_a_share_of_the_total(solution, k):
    X = digits()
    mine, theirs = fitted(solution, X, k), oracle(X, k)
    got = expect.array(mine.explained_variance_ratio_, "explained_variance_ratio_")
    if got.shape == (k,) and abs(got.sum() - 1) < 1e-9:
        raise AssertionError(
            f"explained_variance_ratio_ with n_components={k} sums to 1: it divides by the "
            "variance of the kept components; divide by the total variance of X instead")
    expect.close(got, theirs.explained_variance_ratio_,
                 what=f"explained_variance_ratio_ (n_components={k})", rtol=RTOL, atol=1e-12,
                 oracle="sklearn PCA")


def test_all_components_explain_all_the_variance(solution):
    model = fitted(solution, digits(), None)
    assert model.n_components_ == 64, (
        f"PCA(n_components=None) on 1797 × 64 data keeps {model.n_components_} components, "
        "expected min(n_samples, n_features) = 64")
    total = float(np.sum(model.explained_variance_ratio_))
    assert abs(total - 1) <= 1e-9, f"with every component kept the ratios sum to {total}, not 1"


def test_singular_values_match_sklearn(solution):
    X = digits()
    expect.close(fitted(solution, X, 10).singular_values_, oracle(X, 10).singular_values_,
                 what="singular_values_ (n_components=10)", rtol=RTOL, atol=1e-9,
                 oracle="sklearn PCA")


@pytest.mark.parametrize("k", [3, 20])
def test_components_match_sklearn_up_to_sign(solution, k):
    X = digits()
    mine, theirs = fitted(solution, X, k), oracle(X, k)
    C = np.asarray(mine.components_, dtype=float)
    s = signs(mine, theirs, f"PCA({k})")
    for i in range(k):
        expect.close(s[i] * C[i], theirs.components_[i], oracle="sklearn PCA (up to sign)",
                     what=f"component {i} (row {i} of components_, n_components={k})",
                     rtol=0, atol=ATOL_VECTORS)
    gram = np.abs(C @ C.T - np.eye(k)).max()
    assert gram <= 1e-9, f"the rows of components_ are not orthonormal (|C·Cᵀ − I| = {gram:.1e})"


def test_transform_projects_new_data_with_the_training_mean(solution):
    X = digits()
    train, new = X[:1500], X[1500:]
    mine, theirs = fitted(solution, train, 10), oracle(train, 10)
    s = signs(mine, theirs, "PCA(10)")
    C, mu = np.asarray(mine.components_, dtype=float), np.asarray(mine.mean_, dtype=float)
    Z = expect.array(mine.transform(new), "transform")
    assert Z.shape == (len(new), 10), (
        f"transform of 297 new rows has shape {Z.shape}, expected (297, 10)")
    if np.allclose(Z, (new - new.mean(axis=0)) @ C.T, atol=1e-8):
        raise AssertionError("transform centres the new data with its own mean; subtract mean_ "
                             "(learned in fit), so that new points land where the model expects")
    if np.allclose(Z, new @ C.T, atol=1e-8):
        raise AssertionError("transform does not subtract mean_ before projecting")
    expect.close(Z, (new - mu) @ C.T, what="transform(X_new) against (X_new − mean_)·componentsᵀ",
                 rtol=0, atol=1e-9, oracle="your own components_ and mean_")
    expect.close(Z * s, theirs.transform(new), what="transform of 297 new digits",
                 rtol=0, atol=1e-6 * np.abs(theirs.transform(new)).max(),
                 oracle="sklearn PCA (up to the sign of each component)")


def test_fit_transform_equals_fit_then_transform(solution):
    X = digits()
    Z = expect.array(solution.PCA(n_components=5).fit_transform(X), "fit_transform")
    model = fitted(solution, X, 5)
    expect.close(Z, model.transform(X), what="fit_transform(X)", rtol=0, atol=1e-9,
                 oracle="fit(X).transform(X)")


@pytest.mark.parametrize("k", [5, 20, 64])
def test_inverse_transform_reconstructs_like_sklearn(solution, k, record_metric):
    X = digits()
    mine, theirs = fitted(solution, X, k), oracle(X, k)
    back = expect.array(mine.inverse_transform(mine.transform(X)), "inverse_transform")
    want = theirs.inverse_transform(theirs.transform(X))  # signs cancel in the round trip
    error = float(np.mean((X - back) ** 2))
    record_metric(f"reconstruction MSE, {k} components", error, unit="pixel²",
                  target=f"= {np.mean((X - want) ** 2):.4f} (sklearn)")
    expect.close(back, want, what=f"inverse_transform(transform(X)) with {k} components",
                 rtol=0, atol=1e-6, oracle="sklearn PCA")


@pytest.mark.parametrize("fraction", [0.5, 0.8, 0.95])
def test_a_float_keeps_enough_components(solution, fraction):
    X = digits()
    mine, theirs = fitted(solution, X, fraction), oracle(X, fraction)
    assert mine.n_components_ == theirs.n_components_, (
        f"PCA(n_components={fraction}) kept {mine.n_components_} components, expected "
        f"{theirs.n_components_}: the fewest whose cumulative explained_variance_ratio_ "
        f"exceeds {fraction}")
    assert np.shape(mine.components_) == (theirs.n_components_, 64), (
        f"PCA(n_components={fraction}): components_ has shape {np.shape(mine.components_)}")


def test_a_float_reached_exactly_keeps_one_more(solution):
    # two directions of exactly equal variance: the first holds exactly half of the total, which
    # is not *more than* 0.5, so PCA(0.5) keeps both (scikit-learn: searchsorted side="right")
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    ratios = np.asarray(fitted(solution, X, None).explained_variance_ratio_, dtype=float)
    want = min(int(np.searchsorted(np.cumsum(ratios), 0.5, side="right")) + 1, 2)
    got = fitted(solution, X, 0.5).n_components_
    assert got == want, (
        f"PCA(n_components=0.5) kept {got} components where your cumulative ratios are "
        f"{np.cumsum(ratios).tolist()}: keep the fewest whose cumulative ratio is greater "
        "than 0.5, not equal to it")


def test_more_features_than_samples(solution):
    X = digits()[:30]  # 30 samples of 64 pixels: at most 30 components (the last has ~0 variance)
    mine, theirs = fitted(solution, X, None), oracle(X, None)
    assert mine.n_components_ == 30, (
        f"PCA(None) on 30 × 64 data keeps {mine.n_components_} components, expected "
        "min(n_samples, n_features) = 30")
    expect.close(mine.explained_variance_, theirs.explained_variance_,
                 what="explained_variance_ of 30 digits", rtol=RTOL,
                 atol=1e-9 * theirs.explained_variance_[0], oracle="sklearn PCA")
    C = np.asarray(mine.components_, dtype=float)[:10]
    s = np.where(np.sum(C * theirs.components_[:10], axis=1) < 0, -1.0, 1.0)
    expect.close(C * s[:, None], theirs.components_[:10],
                 what="the first 10 components of 30 digits", rtol=0, atol=ATOL_VECTORS,
                 oracle="sklearn PCA (up to sign)")


@pytest.mark.parametrize("k", [0, 65, 1.5, -0.5, 1.0, 3.0, True])
def test_impossible_n_components_raise(solution, k):
    expect.raises(ValueError, lambda: solution.PCA(n_components=k).fit(digits()),
                  what="PCA(...).fit", why=f"n_components={k} on 1797 × 64 data")

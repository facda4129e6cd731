"""Day 13 grader: hard and soft margins, kernels and the decision grid, against sklearn SVC.

All data are 2-D (so the grid is a picture) and in general position: the oracle's
multipliers are unique and clearly zero or non-zero (checked below), so support-vector
counts can be compared exactly.
"""

from functools import cache

import numpy as np
import pytest

from graders import expect, forbid

FORBIDDEN = ["sklearn.svm", "sklearn.linear_model", "scipy.optimize", "cvxopt", "cvxpy",
             "quadprog", "qpsolvers", "osqp"]
LIBSVM = ("sklearn.svm._libsvm.fit", "sklearn.svm._liblinear.train_wrap")
RTOL = 1e-3  # decision values within 1e-3 * max|f|, margins within 0.1 %
HARD_C = 1e6  # libsvm has no C = inf; on separable data with all alpha << C it is the same
SWEEP_CS = [0.01, 0.1, 1.0, 10.0]


def blobs(n, dist, seed):
    rng = np.random.default_rng(seed)
    c = np.array([dist / 2, 0.0])
    X = np.vstack([rng.normal(-c, 1.0, (n // 2, 2)), rng.normal(c, 1.0, (n - n // 2, 2))])
    y = np.r_[-np.ones(n // 2), np.ones(n - n // 2)]
    perm = rng.permutation(n)
    return X[perm], y[perm]


@cache
def data(name):
    if name == "separable":
        return blobs(80, 6.0, seed=13)
    if name == "overlapping":
        return blobs(120, 2.5, seed=14)
    if name == "small-overlap":
        return blobs(60, 1.5, seed=15)
    if name == "moons":
        from sklearn.datasets import make_moons

        X, y = make_moons(100, noise=0.2, random_state=16)
        return X, 2.0 * y - 1
    raise KeyError(name)


@cache
def oracle(name, C, kernel="linear", gamma=1.0):
    from sklearn.svm import SVC

    X, y = data(name)
    svc = SVC(C=C, kernel=kernel, gamma=gamma, tol=1e-10).fit(X, y)
    alpha = np.zeros(len(y))
    alpha[svc.support_] = np.abs(svc.dual_coef_[0])
    f = svc.decision_function(X)
    off = alpha == 0
    assert alpha[svc.support_].min() > 1e-4 * min(C, 1.0) and np.all(y[off] * f[off] > 1 + 1e-4), (
        f"grader data {name} (C={C}) are degenerate"
    )
    K = X @ X.T if kernel == "linear" else np.exp(-gamma * ((X[:, None] - X[None]) ** 2).sum(-1))
    coef, sv = svc.dual_coef_[0], svc.support_
    margin = 2 / np.sqrt(coef @ K[np.ix_(sv, sv)] @ coef)
    return svc, margin


_fits = {}


def fitted(solution, name, C, kernel="linear", gamma=1.0):
    key = (name, C, kernel, gamma)
    if key not in _fits:
        X, y = data(name)
        with forbid.calls(*LIBSVM):
            _fits[key] = solution.SVM(C=C, kernel=kernel, gamma=gamma).fit(X.copy(), y.copy())
    return _fits[key]


def grid_points(X, nx=31, ny=17):
    lo, hi = X.min(0) - 0.5, X.max(0) + 0.5
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], nx), np.linspace(lo[1], hi[1], ny))
    return (lo[0], hi[0]), (lo[1], hi[1]), xx, yy


def test_no_library_svm_or_qp_solver(solution_dir):
    forbid.assert_not_used(solution_dir, FORBIDDEN, why="the SVM and its solver are yours")


def test_rbf_kernel(solution):
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(3)
    X, Z = rng.normal(size=(6, 2)), rng.normal(size=(4, 2))
    for gamma in (0.5, 2.0):
        expect.close(solution.rbf_kernel(X, Z, gamma), np.exp(-gamma * cdist(X, Z, "sqeuclidean")),
                     rtol=1e-9, atol=1e-12, what=f"rbf_kernel(X, Z, gamma={gamma})",
                     oracle="exp(-gamma * ||x - z||²)")


def test_hard_margin_on_separable_data(solution):
    X, y = data("separable")
    svc, margin = oracle("separable", HARD_C)
    assert np.abs(svc.dual_coef_).max() < 1e-3 * HARD_C  # so C = 1e6 is a hard margin
    model = fitted(solution, "separable", None)
    f = np.asarray(model.decision_function(X), dtype=float)
    assert np.min(y * f) >= 1 - 1e-3, (
        f"hard margin: a training point has y f(x) = {np.min(y * f):.4f} < 1 "
        "(with C = None every point must be on or outside the margin)"
    )
    expect.close(f, svc.decision_function(X), rtol=0, atol=RTOL * np.abs(f).max(),
                 what="hard-margin decision_function on the training points",
                 oracle="sklearn SVC(kernel='linear', C=1e6)")
    expect.close(solution.margin_width(model), margin, rtol=RTOL, atol=0,
                 what="margin_width of the hard-margin SVM", oracle="2 / ||w|| from sklearn")
    got = sorted(int(i) for i in np.asarray(model.support_).ravel())
    assert got == sorted(svc.support_.tolist()), (
        f"hard margin: support_ {got} differs from sklearn's {sorted(svc.support_.tolist())}"
    )


def test_hard_margin_refuses_overlapping_classes(solution):
    X, y = data("small-overlap")
    with forbid.calls(*LIBSVM):
        expect.raises(ValueError, solution.SVM(C=None, max_iter=20_000).fit, X, y,
                      what="SVM(C=None, max_iter=20_000).fit",
                      why="overlapping classes, where no hard margin exists")


def test_soft_margin_is_wider_than_hard_margin(solution):
    X, y = data("separable")
    hard = solution.margin_width(fitted(solution, "separable", None))
    soft_model = fitted(solution, "separable", 0.01)
    soft = solution.margin_width(soft_model)
    _, want = oracle("separable", 0.01)
    expect.close(soft, want, rtol=RTOL, atol=0, what="margin_width with C=0.01 on separable data",
                 oracle="sklearn SVC(kernel='linear', C=0.01)")
    assert soft > hard, (
        f"the soft margin (C=0.01, {soft:.4f}) must be wider than the hard one ({hard:.4f})"
    )
    inside = int(np.sum(y * soft_model.decision_function(X) < 1 - 1e-3))
    assert inside > 0, "with C=0.01 some training points should lie inside the margin"


@pytest.mark.parametrize("name,C,kernel,gamma", [("overlapping", 1.0, "linear", 1.0),
                                                 ("moons", 1.0, "rbf", 1.0),
                                                 ("moons", 10.0, "rbf", 2.0)])
def test_soft_margin_decision_function(solution, name, C, kernel, gamma):
    X, _ = data(name)
    svc, margin = oracle(name, C, kernel, gamma)
    model = fitted(solution, name, C, kernel, gamma)
    _, _, xx, yy = grid_points(X)
    pts = np.r_[X, np.c_[xx.ravel(), yy.ravel()]]
    want = svc.decision_function(pts)
    expect.close(model.decision_function(pts), want, rtol=0, atol=RTOL * np.abs(want).max(),
                 what=f"decision_function ({kernel} kernel, C={C}, gamma={gamma}) on {name}",
                 oracle=f"sklearn SVC(kernel='{kernel}')")
    expect.close(solution.margin_width(model), margin, rtol=RTOL, atol=0,
                 what=f"margin_width ({kernel} kernel, C={C}) on {name}", oracle="sklearn SVC")
    pred = np.asarray(model.predict(X)).ravel()
    assert set(np.unique(pred)) <= {-1, 1}, (
        f"predict must return -1 / +1, got {np.unique(pred)[:5]}"
    )


@pytest.mark.parametrize("name,C,kernel,gamma", [("overlapping", 1.0, "linear", 1.0),
                                                 ("moons", 1.0, "rbf", 1.0)])
def test_decision_grid(solution, name, C, kernel, gamma):
    X, _ = data(name)
    svc, _ = oracle(name, C, kernel, gamma)
    model = fitted(solution, name, C, kernel, gamma)
    xlim, ylim, xx, yy = grid_points(X, nx=31, ny=17)
    got = solution.decision_grid(model, xlim, ylim, 31, 17)
    assert isinstance(got, tuple) and len(got) == 3, "decision_grid must return (xx, yy, zz)"
    gx, gy, gz = (expect.array(a, "decision_grid") for a in got)
    for arr, nm in ((gx, "xx"), (gy, "yy"), (gz, "zz")):
        assert arr.shape == (17, 31), (
            f"decision_grid's {nm} has shape {arr.shape}; with nx=31, ny=17 it must be (17, 31) "
            "as np.meshgrid gives (rows follow y)"
        )
    expect.close(gx, xx, what="decision_grid's xx", oracle="np.meshgrid")
    expect.close(gy, yy, what="decision_grid's yy", oracle="np.meshgrid")
    want = svc.decision_function(np.c_[xx.ravel(), yy.ravel()]).reshape(xx.shape)
    expect.close(gz, want, rtol=0, atol=RTOL * np.abs(want).max(),
                 what=f"decision_grid's zz ({kernel} kernel; zz[i, j] is f(xx[i, j], yy[i, j]))",
                 oracle="sklearn SVC.decision_function on the same grid")


def test_c_sweep_margin_widens_as_C_falls(solution):
    X, y = data("overlapping")
    with forbid.calls(*LIBSVM):
        got = solution.c_sweep(X.copy(), y.copy(), SWEEP_CS)
    for key in ("margin", "n_support", "train_error"):
        assert key in got, f"c_sweep's result has no {key!r}"
        assert len(got[key]) == len(SWEEP_CS), f"c_sweep's {key!r} has {len(got[key])} values"
    margins = expect.array(got["margin"], "c_sweep's margin")
    assert np.all(np.diff(margins) < 0), (
        f"the margin must widen as C falls: got {np.round(margins, 4).tolist()} for C = {SWEEP_CS}"
    )
    want = [oracle("overlapping", C) for C in SWEEP_CS]
    expect.close(margins, [m for _, m in want], rtol=RTOL, atol=0,
                 what=f"c_sweep margins for C = {SWEEP_CS}", oracle="2 / ||w|| from sklearn SVC")
    n_sv = [int(v) for v in got["n_support"]]
    want_sv = [len(svc.support_) for svc, _ in want]
    assert n_sv == want_sv, (
        f"c_sweep n_support {n_sv} differs from sklearn's {want_sv} (every point with alpha > 0 "
        "is a support vector, those with alpha = C included)"
    )
    err_sk = [np.mean(svc.predict(X) != y) for svc, _ in want]
    expect.close(got["train_error"], err_sk, rtol=0, atol=1.01 / len(y),
                 what="c_sweep train_error", oracle="sklearn SVC's training error")


def test_labels_must_be_plus_minus_one(solution):
    X, y = data("overlapping")
    expect.raises(ValueError, solution.SVM(C=1.0).fit, X, (y + 1) / 2,
                  what="SVM.fit", why="labels 0 / 1 (the dual needs -1 / +1)")
    expect.raises(ValueError, solution.SVM(C=1.0).fit, X, np.where(y > 0, 1.0, -2.0),
                  what="SVM.fit", why="labels -2 / +1 (any label other than -1 / +1)")


def test_c_sweep_passes_kernel_and_gamma_on(solution):
    X, y = data("moons")
    with forbid.calls(*LIBSVM):
        got = solution.c_sweep(X.copy(), y.copy(), [1.0, 10.0], kernel="rbf", gamma=2.0)
    want = [oracle("moons", C, "rbf", 2.0)[1] for C in (1.0, 10.0)]
    expect.close(expect.array(got["margin"], "c_sweep's margin"), want, rtol=RTOL, atol=0,
                 what="c_sweep margins on the moons with kernel='rbf', gamma=2",
                 oracle="sklearn SVC(kernel='rbf', gamma=2): pass kernel and gamma to every fit")

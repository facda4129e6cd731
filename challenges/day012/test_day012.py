"""Day 12 grader: the SVM dual and a home-made QP solver, checked against libsvm (sklearn SVC).

Test data are Gaussian blobs in general position, where the optimal multipliers are unique
and every support vector is clearly one (the grader checks this on the oracle's solution),
so support-vector sets can be compared exactly.
"""

from functools import cache

import numpy as np
import pytest

from graders import expect, forbid

FORBIDDEN = ["sklearn.svm", "sklearn.linear_model", "scipy.optimize", "cvxopt", "cvxpy",
             "quadprog", "qpsolvers", "osqp"]
# (n, d, distance between the blob centres, C)
CASES = {
    "overlapping-2d-C1": (120, 2, 2.0, 1.0),
    "overlapping-4d-C0.1": (150, 4, 1.5, 0.1),
    "separable-3d-C1000": (100, 3, 7.0, 1000.0),
    "5d-C10": (200, 5, 2.5, 10.0),
}
W_RTOL = 1e-3  # |w - w_sklearn| <= 1e-3 * ||w_sklearn|| (elementwise), same for b and f(x)


def blobs(n, d, dist, seed):
    rng = np.random.default_rng(seed)
    centre = np.zeros(d)
    centre[0] = dist / 2
    X = np.vstack([rng.normal(-centre, 1.0, (n // 2, d)), rng.normal(centre, 1.0, (n - n // 2, d))])
    y = np.r_[-np.ones(n // 2), np.ones(n - n // 2)]
    perm = rng.permutation(n)
    return X[perm], y[perm]


@cache
def case(name):
    n, d, dist, C = CASES[name]
    X, y = blobs(n, d, dist, seed=sum(map(ord, name)))
    Xtest, _ = blobs(300, d, dist, seed=7)
    return X, y, C, Xtest


@cache
def oracle(name, kernel="linear"):
    from sklearn.svm import SVC

    X, y, C, _ = case(name)
    if kernel == "rbf":
        K = np.exp(-0.5 * ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))
        svc = SVC(kernel="precomputed", C=C, tol=1e-10).fit(K, y)
    else:
        K = X @ X.T
        svc = SVC(kernel="linear", C=C, tol=1e-10).fit(X, y)
    alpha = np.zeros(len(y))
    alpha[svc.support_] = np.abs(svc.dual_coef_[0])
    f = (alpha * y) @ K + svc.intercept_[0]
    # the test data must make the answer unique: no multiplier near 0 that is a support
    # vector, no non-support vector on the margin
    off = alpha == 0
    assert alpha[svc.support_].min() > 1e-4 * C and np.all(y[off] * f[off] > 1 + 1e-4), (
        f"grader data for {name} is degenerate"
    )
    return svc, K, alpha


_fits = {}


def fitted(solution, name):
    """The learner's LinearSVM fitted on a case, fitted once per grade."""
    if name not in _fits:
        X, y, C, _ = case(name)
        with forbid.calls("sklearn.svm._libsvm.fit", "sklearn.svm._liblinear.train_wrap"):
            _fits[name] = solution.LinearSVM(C=C).fit(X.copy(), y.copy())
    return _fits[name]


def test_no_library_svm_or_qp_solver(solution_dir):
    forbid.assert_not_used(solution_dir, FORBIDDEN, why="day 12 is about writing the QP solver")


def test_linear_kernel(solution):
    rng = np.random.default_rng(1)
    X, Z = rng.normal(size=(7, 3)), rng.normal(size=(4, 3))
    expect.close(solution.linear_kernel(X, Z), X @ Z.T, what="linear_kernel(X, Z) (7x3, 4x3)",
                 oracle="X @ Z.T")


def dual(alpha, K, y):
    """The grader's own dual objective: Σα − ½ Σᵢⱼ αᵢαⱼyᵢyⱼKᵢⱼ."""
    return alpha.sum() - 0.5 * np.sum(np.outer(alpha * y, alpha * y) * K)


def test_dual_objective_formula(solution):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(9, 3))
    y = np.where(rng.random(9) < 0.5, -1.0, 1.0)
    K = X @ X.T
    for alpha in (np.zeros(9), rng.random(9), 3 * rng.random(9)):
        want = dual(alpha, K, y)
        expect.close(solution.dual_objective(alpha, K, y), want, rtol=1e-9, atol=1e-12,
                     what="dual_objective(alpha, K, y)",
                     oracle="Σα − ½ Σᵢⱼ αᵢαⱼyᵢyⱼKᵢⱼ (did you leave out the labels y?)")


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_solve_dual_is_feasible_and_optimal(solution, kernel):
    name = "overlapping-2d-C1"
    _, y, C, _ = case(name)
    svc, K, want_alpha = oracle(name, kernel)
    with forbid.calls("sklearn.svm._libsvm.fit", "sklearn.svm._liblinear.train_wrap"):
        alpha, b = solution.solve_dual(K.copy(), y.copy(), C)
    alpha = expect.array(alpha, "solve_dual's alpha")
    assert alpha.shape == y.shape, f"solve_dual's alpha has shape {alpha.shape}, expected {y.shape}"
    assert alpha.min() >= -1e-8 * C and alpha.max() <= C * (1 + 1e-8), (
        f"alpha outside the box [0, C={C}]: min {alpha.min():.4g}, max {alpha.max():.4g} "
        "(clip each multiplier to [0, C])"
    )
    assert abs(alpha @ y) <= 1e-6 * C * len(y), (
        f"the equality constraint Σ αᵢ yᵢ = 0 is violated: Σ αᵢ yᵢ = {alpha @ y:.3g}"
    )
    got, best = dual(alpha, K, y), dual(want_alpha, K, y)  # independent of the learner's
    assert got >= best - 1e-6 * abs(best), (
        f"solve_dual stopped short of the optimum ({kernel} kernel): dual objective {got:.8g}, "
        f"libsvm reaches {best:.8g}"
    )
    expect.close(alpha, want_alpha, rtol=0, atol=1e-3 * C, oracle="sklearn SVC (libsvm)",
                 what=f"alpha for the {kernel} Gram matrix")
    expect.close(b, svc.intercept_[0], rtol=0, atol=1e-3 * (1 + abs(svc.intercept_[0])),
                 oracle="sklearn SVC (libsvm)",
                 what=f"the bias b from solve_dual ({kernel} kernel)")


@pytest.mark.parametrize("name", list(CASES))
def test_weights_bias_and_margin_match_sklearn(solution, name):
    svc, _, _ = oracle(name)
    model = fitted(solution, name)
    w_sk, b_sk = svc.coef_[0], svc.intercept_[0]
    scale = np.linalg.norm(w_sk)
    expect.close(model.w_, w_sk, rtol=0, atol=W_RTOL * scale, what=f"w_ on {name}",
                 oracle="sklearn SVC(kernel='linear')")
    expect.close(model.b_, b_sk, rtol=0, atol=W_RTOL * max(1.0, abs(b_sk)),
                 what=f"the intercept b_ on {name} (b comes from free support vectors, 0 < α < C)",
                 oracle="sklearn SVC(kernel='linear')")
    expect.close(model.margin_, 2 / scale, rtol=W_RTOL, atol=0, oracle="2 / ||w_sklearn||",
                 what=f"margin_ (the width of the street, 2 / ||w||) on {name}")


@pytest.mark.parametrize("name", list(CASES))
def test_support_vectors_match_sklearn(solution, name):
    svc, _, _ = oracle(name)
    X, y, C, _ = case(name)
    model = fitted(solution, name)
    alpha = expect.array(model.alpha_, "alpha_")
    assert alpha.min() >= -1e-8 * C and alpha.max() <= C * (1 + 1e-8), (
        f"alpha_ outside the box [0, C={C}] on {name}: min {alpha.min():.4g}, max {alpha.max():.4g}"
    )
    expect.close(model.w_, (alpha * y) @ X, rtol=1e-9, atol=1e-9, what=f"w_ on {name}",
                 oracle="Σ αᵢ yᵢ xᵢ from your own alpha_")
    got = sorted(int(i) for i in np.asarray(model.support_).ravel())
    want = sorted(int(i) for i in svc.support_)
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    assert not missing and not extra, (
        f"support_ on {name} differs from sklearn's: missing {missing[:6]}, extra {extra[:6]} "
        f"({len(got)} vs {len(want)} support vectors)"
    )


@pytest.mark.parametrize("name", ["overlapping-2d-C1", "5d-C10"])
def test_decision_function_and_predict(solution, name):
    svc, _, _ = oracle(name)
    _, _, _, Xtest = case(name)
    model = fitted(solution, name)
    want = svc.decision_function(Xtest)
    expect.close(model.decision_function(Xtest), want, rtol=0,
                 atol=W_RTOL * np.abs(want).max(),
                 what=f"decision_function on fresh points ({name})",
                 oracle="sklearn SVC(kernel='linear')")
    pred = np.asarray(model.predict(Xtest)).ravel()
    assert set(np.unique(pred)) <= {-1, 1}, (
        f"predict must return -1 / +1, got {np.unique(pred)[:5]}"
    )
    assert np.issubdtype(pred.dtype, np.integer), (
        f"predict returned dtype {pred.dtype}; the spec asks for an int array of -1 / +1")
    sure = np.abs(want) > 1e-3 * np.abs(want).max()
    wrong = int(np.sum(pred[sure] != np.sign(want[sure])))
    assert wrong == 0, (
        f"predict disagrees with the sign of sklearn's decision function on {wrong} points"
    )


def test_labels_must_be_plus_minus_one(solution):
    X, y, C, _ = case("overlapping-2d-C1")
    expect.raises(ValueError, solution.LinearSVM(C=C).fit, X, (y + 1) / 2,
                  what="LinearSVM.fit", why="labels 0 / 1 (the dual needs -1 / +1)")
    expect.raises(ValueError, solution.LinearSVM(C=C).fit, X, np.where(y > 0, 1.0, -2.0),
                  what="LinearSVM.fit", why="labels -2 / +1 (any label other than -1 / +1)")


def test_predict_is_plus_one_where_f_is_exactly_zero(solution):
    model = fitted(solution, "overlapping-2d-C1")
    model.w_, model.b_ = np.array([1.0, 0.0]), 0.0  # f(x) = x₀, exactly 0 on the middle row
    pred = np.asarray(model.predict(np.array([[-1.0, 5.0], [0.0, 3.0], [2.0, -1.0]]))).ravel()
    assert pred.tolist() == [-1, 1, 1], (
        f"predict gave {pred.tolist()} for decision values [-1, 0, 2]: +1 where f(x) ≥ 0, so "
        "f = 0 exactly is +1 (np.sign gives 0 there)")
    del _fits["overlapping-2d-C1"]  # the next test refits it untouched


def test_support_vectors_follow_sv_tol(solution):
    X, y, C, _ = case("overlapping-2d-C1")
    with forbid.calls("sklearn.svm._libsvm.fit", "sklearn.svm._liblinear.train_wrap"):
        model = solution.LinearSVM(C=C, sv_tol=0.5 * C).fit(X.copy(), y.copy())
    alpha = expect.array(model.alpha_, "alpha_")
    want = np.flatnonzero(alpha > 0.5 * C).tolist()
    got = sorted(int(i) for i in np.asarray(model.support_).ravel())
    assert got == want, (
        f"with sv_tol = {0.5 * C}, support_ has {len(got)} indices but {len(want)} multipliers "
        "exceed sv_tol: support_ is the indices with alpha_ > sv_tol (use the argument)")

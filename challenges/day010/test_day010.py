"""Day 10 grader: logistic regression by gradient descent — a stable loss and sigmoid, the
analytic gradient against closed forms and finite differences, the exact gradient-descent
trajectory, and accuracy on the breast-cancer data."""

from functools import cache

import numpy as np
import pytest
from scipy.special import expit
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from graders import expect, forbid

# Small matrices: one BLAS thread is as fast, and steady when the machine is shared.
threadpool_limits(1)

BANNED = ["sklearn.linear_model", "sklearn.svm", "sklearn.neural_network", "scipy.optimize",
          "scipy.special.expit", "scipy.special.log_expit", "torch", "jax"]
MIN_TEST_ACCURACY = 0.95
MAX_TRAIN_LOSS = 0.05


@cache
def _data():
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    return (X_train - mean) / std, (X_test - mean) / std, y_train.astype(float), y_test


def data():
    return tuple(a.copy() for a in _data())


def oracle_loss(w, b, X, y):
    z = X @ w + b
    return np.mean(np.logaddexp(0.0, z) - y * z)


def oracle_gradient(w, b, X, y):
    r = expit(X @ w + b) - y
    return X.T @ r / len(y), r.mean()


def weights(seed, scale=0.3):
    rng = np.random.default_rng(seed)
    return rng.normal(0, scale, 30), float(rng.normal(0, scale))


def test_forbidden_routines_are_not_used(solution_dir):
    forbid.assert_not_used(solution_dir, BANNED, why="write the model and its training yourself")


# ---- sigmoid and loss ---------------------------------------------------------------------

def test_sigmoid_is_exact_and_finite(solution):
    z = np.array([-1000.0, -745.0, -50.0, -5.0, -1e-3, 0.0, 1e-3, 5.0, 36.0, 50.0, 800.0])
    got = expect.array(solution.sigmoid(z), "sigmoid")
    assert np.all(np.isfinite(got)), (
        f"sigmoid returned {got[~np.isfinite(got)][0]} for some z in ±1000: e^z overflows to "
        "inf and inf/inf is NaN; use e^(−|z|), which never overflows")
    expect.close(got, expit(z), what="sigmoid(z) for z from -1000 to 800", rtol=1e-12,
                 atol=1e-15, oracle="scipy.special.expit")


@pytest.mark.parametrize("scale", [0.3, 3.0, 300.0], ids=["small", "large", "huge"])
def test_log_loss_matches_the_closed_form(solution, scale):
    X, _, y, _ = data()
    w, b = weights(1, scale)
    got = solution.log_loss(w, b, X, y)
    want = oracle_loss(w, b, X, y)
    assert np.isfinite(got), (
        f"log_loss is {got} for weights of scale {scale}: σ(z) rounds to exactly 0 or 1 for "
        "confident predictions and log(0) = −inf; use log(1 + e^z) − y·z (np.logaddexp)")
    expect.close(got, want, what=f"log_loss with weights of scale {scale}", rtol=1e-9, atol=0,
                 oracle="mean(log(1 + e^z) − y·z)")


# ---- gradients ----------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2])
def test_gradient_matches_the_closed_form(solution, seed):
    X, _, y, _ = data()
    w, b = weights(seed)
    result = solution.gradient(w, b, X, y)
    assert isinstance(result, tuple) and len(result) == 2, "gradient must return (dw, db)"
    dw, db = expect.array(result[0], "gradient"), float(result[1])
    want_w, want_b = oracle_gradient(w, b, X, y)
    assert dw.shape == want_w.shape, f"dw has shape {dw.shape}, expected {want_w.shape}"
    n = len(y)
    if np.allclose(dw, n * want_w, rtol=1e-9):
        raise AssertionError(f"dw is {n}× too large: the loss is a mean over the {n} samples, "
                             "so its gradient is Xᵀ(σ(z) − y)/n")
    if np.allclose(dw, -want_w, rtol=1e-9):
        raise AssertionError("dw has the wrong sign: the gradient of the loss is "
                             "Xᵀ(σ(z) − y)/n (predictions minus labels)")
    expect.close(dw, want_w, what="dw", rtol=1e-9, atol=1e-15, oracle="Xᵀ(σ(z) − y)/n")
    expect.close(db, want_b, what="db", rtol=1e-9, atol=1e-15, oracle="mean(σ(z) − y)")


def test_numerical_gradient_is_central_and_accurate(solution):
    def f(t):
        return np.sum(np.sin(t) * t**2) + np.dot(t, t) ** 2 / 10

    def exact(t):
        return np.cos(t) * t**2 + 2 * t * np.sin(t) + 0.4 * np.dot(t, t) * t

    theta = np.random.default_rng(3).uniform(-2, 2, 6)
    before = theta.copy()
    got = expect.array(solution.numerical_gradient(f, theta, 1e-6), "numerical_gradient")
    assert np.array_equal(theta, before), (
        "numerical_gradient changed θ: perturb a copy (or put every θ[i] back)")
    err = np.abs(got - exact(theta))
    assert np.all(err <= 1e-7 + 1e-8 * np.abs(exact(theta))), (
        f"numerical_gradient is off by up to {err.max():.1e} on a smooth function (central "
        "differences with eps = 1e-6 are within ~1e-9; a forward difference (f(θ + eps) − f(θ))"
        "/eps is only within ~eps·f''/2 ≈ 1e-6)")


def test_analytic_gradient_agrees_with_finite_differences(solution, record_metric):
    X, _, y, _ = data()
    w, b = weights(4)
    theta = np.append(w, b)

    def loss_of(t):
        return solution.log_loss(t[:-1], t[-1], X, y)

    numeric = expect.array(solution.numerical_gradient(loss_of, theta, 1e-6),
                           "numerical_gradient")
    dw, db = solution.gradient(w, b, X, y)
    analytic = np.append(np.asarray(dw, dtype=float), float(db))
    rel = np.linalg.norm(analytic - numeric) / max(np.linalg.norm(analytic + numeric), 1e-300)
    record_metric("gradient check: relative error", rel, target="<= 1e-6")
    assert rel <= 1e-6, (
        f"your gradient and the finite differences of your log_loss disagree (relative error "
        f"{rel:.1e}); one of gradient, log_loss or numerical_gradient is wrong")


# ---- training -----------------------------------------------------------------------------

def oracle_fit(X, y, lr, n_iter):
    w, b, losses = np.zeros(X.shape[1]), 0.0, []
    for _ in range(n_iter):
        dw, db = oracle_gradient(w, b, X, y)
        w, b = w - lr * dw, b - lr * db
        losses.append(oracle_loss(w, b, X, y))
    return w, b, losses


def fitted(solution, X, y, lr, n_iter):
    result = solution.fit(X, y, lr=lr, n_iter=n_iter)
    assert isinstance(result, tuple) and len(result) == 3, "fit must return (w, b, losses)"
    w, b, losses = result
    return expect.array(w, "fit"), float(b), expect.array(losses, "fit's losses")


def test_fit_is_plain_gradient_descent_from_zero(solution):
    X, _, y, _ = data()
    for n_iter in (1, 5):
        w, b, losses = fitted(solution, X, y, 0.1, n_iter)
        want_w, want_b, want_losses = oracle_fit(X, y, 0.1, n_iter)
        label = f"fit(X, y, lr=0.1, n_iter={n_iter})"
        if n_iter == 1 and not np.allclose(w, want_w, rtol=1e-9, atol=1e-15):
            raise AssertionError(
                f"after one step, {label} gives w ≠ −lr·∇L(0, 0): start from w = 0, b = 0 and "
                "take w ← w − lr·dw, b ← b − lr·db with the full-batch gradient")
        expect.close(w, want_w, what=f"w after {label}", rtol=1e-9, atol=1e-15,
                     oracle="gradient descent from zero")
        expect.close(b, want_b, what=f"b after {label} (is b updated?)", rtol=1e-9,
                     atol=1e-15, oracle="gradient descent from zero")
        assert losses.shape == (n_iter,), (
            f"{label} returned {losses.size} losses; expected one per step ({n_iter})")
        expect.close(losses, want_losses, what=f"the losses of {label}", rtol=1e-9, atol=0,
                     oracle="the loss after each step")


def test_fit_learns_the_breast_cancer_data(solution, record_metric):
    X_train, X_test, y_train, y_test = data()
    w, b, losses = fitted(solution, X_train, y_train, 0.5, 1000)
    assert np.all(np.diff(losses) <= 1e-12), (
        "the training loss went up during gradient descent with lr = 0.5")
    train_loss = oracle_loss(w, b, X_train, y_train)
    predicted = np.asarray(solution.predict(w, b, X_test))
    assert predicted.shape == y_test.shape and set(np.unique(predicted)) <= {0, 1}, (
        "predict must return one label, 0 or 1, per row")
    accuracy = float(np.mean(predicted == y_test))
    record_metric("test accuracy", accuracy, target=f">= {MIN_TEST_ACCURACY}",
                  verdict="PASS" if accuracy >= MIN_TEST_ACCURACY else "FAIL")
    record_metric("training loss", train_loss, target=f"<= {MAX_TRAIN_LOSS}",
                  verdict="PASS" if train_loss <= MAX_TRAIN_LOSS else "FAIL")
    assert train_loss <= MAX_TRAIN_LOSS, (
        f"after 1000 steps of lr = 0.5 the training loss is {train_loss:.4f} > {MAX_TRAIN_LOSS}")
    assert accuracy >= MIN_TEST_ACCURACY, (
        f"test accuracy {accuracy:.3f} < {MIN_TEST_ACCURACY} on 143 held-out tumours")


def test_predictions(solution):
    X, _, _, _ = data()
    w, b = weights(5)
    proba = expect.array(solution.predict_proba(w, b, X), "predict_proba")
    expect.close(proba, expit(X @ w + b), what="predict_proba", rtol=1e-12, atol=1e-15,
                 oracle="σ(X·w + b)")
    labels = np.asarray(solution.predict(w, b, X))
    assert np.issubdtype(labels.dtype, np.integer), (
        f"predict returned dtype {labels.dtype}; return integer labels 0/1")
    assert np.array_equal(labels, (proba >= 0.5).astype(int)), (
        "predict must be 1 exactly where predict_proba >= 0.5")


def test_predict_at_exactly_one_half(solution):
    # X·w + b = 0 exactly on the middle row, so the probability there is exactly 0.5
    X = np.array([[-1.0, -2.0], [0.0, 0.0], [1.0, 2.0]])
    w, b = np.array([1.0, 0.5]), 0.0
    labels = np.asarray(solution.predict(w, b, X))
    assert labels.tolist() == [0, 1, 1], (
        f"predict gave {labels.tolist()} for probabilities {expit(X @ w + b).tolist()}: a "
        "probability of exactly 0.5 is labelled 1 (the rule is ≥ 0.5, not > 0.5)")

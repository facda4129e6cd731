"""Day 18 grader: gradient boosting for squared loss vs sklearn's GradientBoostingRegressor,
and a tuned HistGradientBoosting pipeline on the diabetes data.

The boosting data (make_friedman1, min_samples_leaf=5) give sklearn the same trees for every
random_state (no tied splits), so with the same regression trees your predictions must
match sklearn's to rounding, stage by stage.
"""

import time
from functools import cache

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from graders import expect, forbid

FORBIDDEN = ["sklearn.ensemble.GradientBoostingRegressor",
             "sklearn.ensemble.GradientBoostingClassifier", "sklearn.ensemble._gb"]
CONFIGS = {
    "100 trees, lr 0.1, depth 3": dict(n_estimators=100, learning_rate=0.1, max_depth=3,
                                       min_samples_leaf=5),
    "60 trees, lr 0.3, depth 2": dict(n_estimators=60, learning_rate=0.3, max_depth=2,
                                      min_samples_leaf=5),
}
R2_MIN = 0.30  # held-out R² of the tuned pipeline on diabetes; untuned HistGB gets ≈ 0.28


@cache
def friedman():
    from sklearn.datasets import make_friedman1
    from sklearn.model_selection import train_test_split

    X, y = make_friedman1(n_samples=600, noise=1.0, random_state=18)
    return train_test_split(X, y, test_size=0.3, random_state=0)


@cache
def diabetes():
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split

    X, y = load_diabetes(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0)


@cache
def oracle(config):
    from sklearn.ensemble import GradientBoostingRegressor

    Xtr, _, ytr, _ = friedman()
    return GradientBoostingRegressor(**CONFIGS[config], random_state=0).fit(Xtr, ytr)


_fits = {}


def fitted(solution, config):
    if config not in _fits:
        Xtr, _, ytr, _ = friedman()
        _fits[config] = solution.GradientBoostingRegressor(**CONFIGS[config], random_state=0).fit(
            Xtr.copy(), ytr.copy())
    return _fits[config]


def test_no_library_gradient_boosting(solution_dir):
    forbid.assert_not_used(solution_dir, FORBIDDEN,
                           why="write the boosting loop; sklearn.tree and HistGradientBoosting "
                               "(for the pipeline) are allowed")


def test_negative_gradient(solution):
    rng = np.random.default_rng(0)
    y, F = rng.normal(size=20), rng.normal(size=20)
    expect.close(solution.negative_gradient(y, F), y - F, what="negative_gradient(y, F)",
                 oracle="-d/dF of ½ (y - F)², that is y - F")


@pytest.mark.parametrize("config", list(CONFIGS))
def test_predictions_match_sklearn(solution, config):
    _, Xte, ytr, _ = friedman()
    sk = oracle(config)
    model = fitted(solution, config)
    expect.close(model.init_, ytr.mean(), rtol=1e-12, atol=0, what="init_",
                 oracle="the mean of y (the best constant under squared loss)")
    assert len(model.estimators_) == CONFIGS[config]["n_estimators"], (
        f"{len(model.estimators_)} trees, expected n_estimators={CONFIGS[config]['n_estimators']}"
    )
    want = sk.predict(Xte)
    expect.close(model.predict(Xte), want, rtol=0, atol=1e-8 * ytr.std(), oracle="sklearn",
                 what=f"predict on held-out points ({config})")


@pytest.mark.parametrize("config", list(CONFIGS))
def test_every_stage_matches_sklearn(solution, config):
    Xtr, Xte, ytr, _ = friedman()
    sk = oracle(config)
    model = fitted(solution, config)
    got = [np.array(p, dtype=float) for p in model.staged_predict(Xte)]
    want = list(sk.staged_predict(Xte))
    assert len(got) == len(want), (
        f"staged_predict gave {len(got)} stages, expected one per tree ({len(want)})"
    )
    for stage in (0, 1, len(want) // 2, len(want) - 1):
        expect.close(got[stage], want[stage], rtol=0, atol=1e-8 * ytr.std(), oracle="sklearn",
                     what=f"staged_predict after tree {stage + 1} ({config})")
    loss = expect.array(model.train_loss_, "train_loss_")
    want_loss = [np.mean((ytr - p) ** 2) for p in sk.staged_predict(Xtr)]
    expect.close(loss, want_loss, rtol=1e-9, atol=0, oracle="sklearn's staged training MSE",
                 what=f"train_loss_ (training MSE after each tree) ({config})")
    assert np.all(np.diff(loss) <= 1e-9 * loss[0]), (
        "train_loss_ must not increase: each tree is a least-squares fit to the residuals"
    )


def test_tuned_hist_gradient_boosting_pipeline(solution, record_metric):
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.metrics import r2_score
    from sklearn.pipeline import Pipeline

    Xtr, Xte, ytr, yte = diabetes()
    start = time.perf_counter()
    with threadpool_limits(1):  # OpenMP threads on a shared 2-core machine only thrash
        search = solution.tuned_hist_gb(Xtr.copy(), ytr.copy())
        default = HistGradientBoostingRegressor(random_state=0).fit(Xtr, ytr)
    record_metric("tuning_time", time.perf_counter() - start, unit="s")
    for attr in ("best_estimator_", "best_params_", "cv_results_", "n_splits_"):
        assert hasattr(search, attr), (
            f"tuned_hist_gb must return the fitted search (GridSearchCV / RandomizedSearchCV "
            f"with refit=True); it has no {attr}"
        )
    best = search.best_estimator_
    assert isinstance(best, Pipeline), (
        f"the tuned estimator is a {type(best).__name__}, not a Pipeline"
    )
    assert isinstance(best[-1], HistGradientBoostingRegressor), (
        f"the pipeline ends in {type(best[-1]).__name__}, not HistGradientBoostingRegressor"
    )
    assert search.n_splits_ >= 3, f"tune with at least 3-fold CV (got {search.n_splits_})"
    step = best.steps[-1][0]
    tried = {}
    for params in search.cv_results_["params"]:
        for key, value in params.items():
            if key.startswith(f"{step}__"):
                tried.setdefault(key, set()).add(repr(value))
    tuned = sorted(k for k, v in tried.items() if len(v) >= 2)
    assert len(tuned) >= 2, (
        f"tune at least two hyperparameters of the boosting step, each over >= 2 values; "
        f"the search varied {tuned or 'none'}"
    )
    r2, r2_default = r2_score(yte, search.predict(Xte)), r2_score(yte, default.predict(Xte))
    record_metric("heldout_r2", r2, target=f">= {R2_MIN}")
    record_metric("heldout_r2_untuned", r2_default)
    assert r2 >= R2_MIN, (
        f"held-out R² {r2:.3f} < {R2_MIN} (untuned HistGradientBoosting: {r2_default:.3f}); "
        "the small, noisy diabetes data reward shallow trees and a small learning rate"
    )

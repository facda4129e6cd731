"""Day 26 grader: matrix-factorisation collaborative filtering on a synthetic low-rank set.

Oracle: the data's known structure (rank 3 plus biases, noise sd 0.3) from
graders.data.ratings; held-out RMSE against a threshold that a bias-only model, an
unregularised factorisation and a zero-filled SVD all miss, and against baselines
computed here (global mean, regularised biases).
"""

import numpy as np
import pytest

from graders import forbid
from graders.data.ratings import low_rank_ratings

WARM_RMSE_MAX = 0.65
FORBIDDEN = ["surprise", "implicit", "lightfm", "spotlight", "sklearn.decomposition",
             "scipy.sparse.linalg.svds"]
DATA = low_rank_ratings()
COLD = (np.isin(DATA.test[:, 0], DATA.cold_users) | np.isin(DATA.test[:, 1], DATA.cold_items))


def rmse(pred, truth):
    return float(np.sqrt(np.mean((np.asarray(pred, dtype=float) - truth) ** 2)))


def bias_baseline(train, test, reg=5.0, rounds=10):
    """mu + b_u + b_i with shrunk biases: what a model without factors achieves."""
    u, i, r = train[:, 0].astype(int), train[:, 1].astype(int), train[:, 2]
    nu, ni = DATA.n_users, DATA.n_items
    mu, bu, bi = r.mean(), np.zeros(nu), np.zeros(ni)
    for _ in range(rounds):
        bu = np.bincount(u, r - mu - bi[i], nu) / (np.bincount(u, None, nu) + reg)
        bi = np.bincount(i, r - mu - bu[u], ni) / (np.bincount(i, None, ni) + reg)
    return mu + bu[test[:, 0].astype(int)] + bi[test[:, 1].astype(int)]


def predictions(solution, model, rows):
    pred = np.asarray(solution.predict(model, rows[:, 0].astype(int).copy(),
                                       rows[:, 1].astype(int).copy()), dtype=float)
    assert pred.shape == (len(rows),), (
        f"predict returned shape {pred.shape} for {len(rows)} (user, item) pairs")
    return pred


@pytest.fixture(scope="module")
def model(solution):
    return solution.fit_mf(DATA.train.copy(), DATA.n_users, DATA.n_items, seed=0)


def test_no_recommender_library(solution_dir):
    forbid.assert_not_used(solution_dir, FORBIDDEN, why="write the factorisation yourself")


def test_predictions_are_finite_numbers(solution, model):
    pred = predictions(solution, model, DATA.test)
    assert np.all(np.isfinite(pred)), "predict returned NaN or inf"


def test_held_out_rmse_reaches_the_low_rank_structure(solution, model, record_metric):
    warm = DATA.test[~COLD]
    got = rmse(predictions(solution, model, warm), warm[:, 2])
    baseline = rmse(bias_baseline(DATA.train, warm), warm[:, 2])
    record_metric("held-out RMSE", got, target=f"<= {WARM_RMSE_MAX}",
                  verdict="PASS" if got <= WARM_RMSE_MAX else "FAIL")
    record_metric("bias-only baseline RMSE", baseline)
    record_metric("noise floor (sd)", DATA.noise_sd)
    assert got <= WARM_RMSE_MAX, (
        f"held-out RMSE {got:.3f} > {WARM_RMSE_MAX} (mu + biases alone reach {baseline:.3f}, "
        f"the noise floor is {DATA.noise_sd}): fit the factors to the OBSERVED ratings only "
        "(missing is not zero), regularise them, and keep the global mean and biases")


def test_cold_users_and_items_get_sensible_predictions(solution, model):
    cold = DATA.test[COLD]
    pred = predictions(solution, model, cold)
    assert np.all(np.isfinite(pred)), (
        "predictions for users/items with no training rating are NaN or inf")
    got = rmse(pred, cold[:, 2])
    # the bar is the trivial predictor itself: whatever a model knows must not make an
    # unseen user or item worse than the global mean
    global_mean = rmse(np.full(len(cold), DATA.train[:, 2].mean()), cold[:, 2])
    assert got <= global_mean, (
        f"RMSE {got:.3f} on users/items with no training rating is worse than the global "
        f"mean alone ({global_mean:.3f}): an unseen user should fall back to the global "
        "mean plus the item's bias (and an unseen item to the mean plus the user's bias)")


def test_training_is_seeded(solution):
    part = DATA.train[:1500]
    a = solution.fit_mf(part.copy(), DATA.n_users, DATA.n_items, seed=7)
    b = solution.fit_mf(part.copy(), DATA.n_users, DATA.n_items, seed=7)
    pa, pb = predictions(solution, a, DATA.test[:200]), predictions(solution, b, DATA.test[:200])
    assert np.array_equal(pa, pb), (
        "two fits with the same seed predict differently: draw every random number from "
        "np.random.default_rng(seed)")
    c = solution.fit_mf(part.copy(), DATA.n_users, DATA.n_items, seed=8)
    assert not np.array_equal(pa, predictions(solution, c, DATA.test[:200])), (
        "fits with seeds 7 and 8 predict identically: the seed argument is not used (draw the "
        "initial factors from np.random.default_rng(seed))")


def test_ratings_are_not_modified(solution):
    part = DATA.train[:1500].copy()
    before = part.copy()
    solution.fit_mf(part, DATA.n_users, DATA.n_items, seed=0)
    assert np.array_equal(part, before), (
        "fit_mf modified the ratings array it was given (e.g. centred it in place): work on a "
        "copy")

"""Day 16 grader: a random forest and its out-of-bag error, against sklearn's forest.

The forest is checked three ways: its out-of-bag (OOB) figures are recomputed exactly from
the bootstrap samples and trees it exposes; the OOB error must be close to the error on a
held-out set (that is what OOB is for); and its accuracy on digits must beat a single tree
by far and be close to sklearn's RandomForestClassifier (bagging without feature sampling
falls short).
"""

from functools import cache

import numpy as np
import pytest

from graders import expect, forbid

N_TREES = 100
OOB_VS_HELDOUT = 0.025  # |OOB error - held-out error| on digits
BELOW_SKLEARN = 0.015  # accuracy >= sklearn's forest - this


@cache
def digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, train_size=1000, random_state=0, stratify=y)


@cache
def rare_class_data():
    """40 points, labels 3 / 7 / 9, and only two 9s: many bootstrap samples miss them."""
    rng = np.random.default_rng(16)
    y = np.array([3] * 19 + [7] * 19 + [9] * 2)
    X = rng.normal(size=(40, 4)) + np.select([y == 3, y == 7], [0.0, 1.5], 3.0)[:, None]
    return X, y


_fits = {}


def forest(solution, which, **params):
    key = (which, tuple(sorted(params.items())))
    if key not in _fits:
        X, y = digits()[0::2] if which == "digits" else rare_class_data()
        try:
            _fits[key] = solution.RandomForest(**params).fit(X.copy(), y.copy())
        except (NotImplementedError, AssertionError):
            raise
        except Exception as exc:
            if which == "digits":
                raise
            raise AssertionError(
                f"fit failed on data with a rare class ({type(exc).__name__}: {exc}); a bootstrap "
                "sample can miss a class, so a tree fitted on it knows fewer classes: give every "
                "tree all the classes (fit on all rows with sample_weight = draw counts)"
            ) from None
    return _fits[key]


def recomputed_oob(model, X, n_classes):
    """The OOB class probabilities from the model's own bootstrap samples and trees."""
    n = len(X)
    total, count = np.zeros((n, n_classes)), np.zeros(n)
    assert len(model.estimators_) == len(model.samples_), (
        "estimators_ and samples_ must have one entry per tree"
    )
    for tree, sample in zip(model.estimators_, model.samples_, strict=True):
        oob = np.ones(n, dtype=bool)
        oob[np.asarray(sample, dtype=int)] = False
        if oob.any():
            proba = np.asarray(tree.predict_proba(X[oob]), dtype=float)
            assert proba.shape == (oob.sum(), n_classes), (
                f"a tree's predict_proba has shape {proba.shape}, expected (m, {n_classes}): "
                "every tree must give one column per class of the forest, in the order of "
                "classes_ (a bootstrap sample can miss a rare class)"
            )
            total[oob] += proba
            count[oob] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count[:, None], count


def test_no_library_ensemble(solution_dir):
    forbid.assert_not_used(solution_dir, ["sklearn.ensemble"],
                           why="build the forest yourself; sklearn.tree is allowed for the trees")


def test_bootstrap_sample(solution):
    rng = np.random.default_rng(0)
    fractions = []
    for _ in range(200):
        idx, oob = solution.bootstrap_sample(1000, rng)
        idx, oob = np.asarray(idx), np.asarray(oob)
        assert idx.shape == (1000,) and idx.min() >= 0 and idx.max() < 1000, (
            "bootstrap_sample(n, rng) must return n indices in [0, n)"
        )
        assert oob.dtype == bool and np.array_equal(oob, ~np.isin(np.arange(1000), idx)), (
            "the out-of-bag mask must be True exactly for the rows never drawn"
        )
        fractions.append(np.unique(idx).size / 1000)
    mean = float(np.mean(fractions))
    assert abs(mean - (1 - (1 - 1 / 1000) ** 1000)) < 0.005, (
        f"on average {mean:.3f} of the rows are in a bootstrap sample; drawing n of n with "
        "replacement gives 1 - (1 - 1/n)^n = 0.632"
    )
    assert len(set(fractions)) > 1, "the samples do not change: draw from the rng you are given"


def test_oob_is_computed_from_out_of_bag_trees_only(solution):
    Xtr, _, ytr, _ = digits()
    model = forest(solution, "digits", n_estimators=N_TREES, random_state=0)
    assert len(model.estimators_) == N_TREES and len(model.samples_) == N_TREES, (
        f"estimators_ and samples_ must hold one entry per tree ({N_TREES})"
    )
    samples = [np.asarray(s) for s in model.samples_]
    assert all(s.shape == (len(ytr),) for s in samples), (
        "each samples_ entry must hold the n bootstrap indices of its tree"
    )
    distinct = len({s.tobytes() for s in samples})
    assert distinct == N_TREES, (
        f"only {distinct} of {N_TREES} trees have different bootstrap samples: draw each tree's "
        "sample from one generator that moves on (do not reseed it per tree)"
    )
    inbag = np.mean([np.unique(s).size / len(s) for s in samples])
    assert abs(inbag - 0.632) < 0.02, (
        f"the bootstrap samples hold {inbag:.3f} of the rows on average; with replacement "
        "it is 0.632"
    )
    want, count = recomputed_oob(model, Xtr, len(np.unique(ytr)))
    got = expect.array(model.oob_decision_function_, "oob_decision_function_")
    assert got.shape == want.shape, (
        f"oob_decision_function_ has shape {got.shape}, not {want.shape}"
    )
    seen = count > 0
    expect.close(got[seen], want[seen], rtol=0, atol=1e-9,
                 what="oob_decision_function_",
                 oracle="the mean predict_proba of the trees whose sample left the row out")
    want_score = np.mean(np.unique(ytr)[np.argmax(want[seen], axis=1)] == ytr[seen])
    expect.close(model.oob_score_, want_score, rtol=0, atol=1e-12, what="oob_score_",
                 oracle="the accuracy of the out-of-bag predictions")
    expect.close(model.oob_error_, 1 - want_score, rtol=0, atol=1e-12, what="oob_error_",
                 oracle="1 - oob_score_")


def test_oob_error_estimates_the_held_out_error(solution, record_metric):
    _, Xte, _, yte = digits()
    model = forest(solution, "digits", n_estimators=N_TREES, random_state=0)
    held_out = float(np.mean(np.asarray(model.predict(Xte)) != yte))
    gap = abs(model.oob_error_ - held_out)
    record_metric("oob_error", model.oob_error_)
    record_metric("held_out_error", held_out, target=f"|oob - held-out| <= {OOB_VS_HELDOUT}")
    assert gap <= OOB_VS_HELDOUT, (
        f"OOB error {model.oob_error_:.3f} vs held-out error {held_out:.3f}: they should agree "
        f"to {OOB_VS_HELDOUT}"
    )


def test_forest_beats_a_single_tree_and_matches_sklearn(solution, record_metric):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    Xtr, Xte, ytr, yte = digits()
    model = forest(solution, "digits", n_estimators=N_TREES, random_state=0)
    proba = expect.array(model.predict_proba(Xte), "predict_proba")
    mean = np.mean([np.asarray(t.predict_proba(Xte)) for t in model.estimators_], axis=0)
    expect.close(proba, mean, rtol=0, atol=1e-9, what="predict_proba",
                 oracle="the mean of the trees' predict_proba (soft voting)")
    acc = float(np.mean(np.asarray(model.predict(Xte)) == yte))
    tree = DecisionTreeClassifier(random_state=0).fit(Xtr, ytr).score(Xte, yte)
    sk = RandomForestClassifier(N_TREES, random_state=0).fit(Xtr, ytr).score(Xte, yte)
    record_metric("accuracy", acc, target=f">= {sk - BELOW_SKLEARN:.3f}")
    record_metric("single_tree_accuracy", tree)
    record_metric("sklearn_forest_accuracy", sk)
    assert acc >= tree + 0.05, f"the forest ({acc:.3f}) should beat one tree ({tree:.3f}) by 0.05"
    assert acc >= sk - BELOW_SKLEARN, (
        f"held-out accuracy {acc:.3f} is more than {BELOW_SKLEARN} below sklearn's forest "
        f"({sk:.3f}): do the trees draw a random subset of sqrt(d) features at every split "
        "(max_features='sqrt')?"
    )


def test_rare_class_and_labels(solution):
    X, y = rare_class_data()
    model = forest(solution, "rare", n_estimators=30, random_state=1)
    assert list(np.asarray(model.classes_)) == [3, 7, 9], (
        f"classes_ must be the sorted labels [3, 7, 9], got {model.classes_}"
    )
    missing = sum(9 not in y[np.asarray(s)] for s in model.samples_)
    assert missing > 0, "grader: no bootstrap sample missed the rare class"
    want, count = recomputed_oob(model, X, 3)
    proba = expect.array(model.predict_proba(X), "predict_proba")
    assert proba.shape == (40, 3), f"predict_proba must be (n, 3) here, got {proba.shape}"
    expect.close(proba.sum(axis=1), np.ones(40), what="rows of predict_proba", oracle="1")
    pred = np.asarray(model.predict(X))
    assert set(pred.tolist()) <= {3, 7, 9}, f"predict must return the labels 3 / 7 / 9, got {pred}"
    seen = count > 0
    expect.close(np.asarray(model.oob_decision_function_)[seen], want[seen], rtol=0, atol=1e-9,
                 what="oob_decision_function_ with a rare class",
                 oracle="the mean predict_proba of the out-of-bag trees")


def test_same_seed_same_forest(solution):
    X, _ = rare_class_data()
    a = forest(solution, "rare", n_estimators=30, random_state=1)
    b = forest(solution, "rare", n_estimators=30, random_state=1, max_depth=None)  # a refit
    c = forest(solution, "rare", n_estimators=30, random_state=2)
    expect.close(b.predict_proba(X), a.predict_proba(X), rtol=0, atol=0,
                 what="predict_proba of a second forest with the same random_state",
                 oracle="the first forest (same seed, same forest)")
    assert any(not np.array_equal(s, t) for s, t in zip(a.samples_, c.samples_, strict=True)), (
        "random_state=1 and random_state=2 gave the same bootstrap samples"
    )


def small_data():
    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 3.0], [3.0, 2.0], [4.0, 5.0], [5.0, 4.0]])
    return X, np.array([0, 0, 1, 1, 0, 1])


def test_a_row_in_every_sample_has_no_oob_prediction(solution):
    X, y = small_data()
    for seed in range(40):  # with 3 trees on 6 rows, some seed leaves a row in every sample
        model = solution.RandomForest(n_estimators=3, random_state=seed).fit(X, y)
        drawn = [set(np.asarray(s).tolist()) for s in model.samples_]
        always = sorted(set.intersection(*drawn))
        if always:
            break
    else:
        pytest.skip("no seed put a row in every bootstrap sample")
    dec = np.asarray(model.oob_decision_function_, dtype=float)
    assert np.all(np.isnan(dec[always])), (
        f"rows {always} are in every tree's sample (random_state={seed}), yet their OOB "
        f"probabilities are {dec[always].tolist()}: a row never out of bag gets NaN")
    seen = [i for i in range(len(y)) if i not in always]
    want = float(np.mean(np.argmax(dec[seen], axis=1) == y[seen]))
    expect.close(model.oob_score_, want, what="oob_score_", rtol=0, atol=1e-12,
                 oracle="the accuracy over the rows with an OOB prediction (NaN rows left out)")


def test_max_depth_reaches_the_trees(solution):
    X, y = digits()[0::2]
    model = solution.RandomForest(n_estimators=5, max_depth=2, random_state=0).fit(X, y)
    for t, tree in enumerate(model.estimators_):
        leaves = np.unique(np.round(np.asarray(tree.predict_proba(X)), 12), axis=0)
        assert len(leaves) <= 4, (
            f"tree {t} of a forest with max_depth=2 gives {len(leaves)} different probability "
            "rows, more than the 4 leaves a depth-2 tree has: pass max_depth to every tree")


def test_max_features_reaches_the_trees(solution):
    X, y = digits()[0::2]
    a = solution.RandomForest(n_estimators=5, max_features=None, random_state=0).fit(X, y)
    b = solution.RandomForest(n_estimators=5, max_features=1, random_state=0).fit(X, y)
    assert not np.allclose(a.predict_proba(X), b.predict_proba(X)), (
        "forests with max_features=None and max_features=1 (same seed) predict the same: "
        "pass max_features to every tree")


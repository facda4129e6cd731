"""Day 17 grader: AdaBoost SAMME against sklearn's AdaBoostClassifier (which is SAMME).

With the same weak learner (a depth-1 or depth-2 sklearn tree fitted with the sample
weights), every round is determined by the formulas: so the whole sequence of weighted
errors and learner weights (alphas) must match sklearn's, round by round. On the grader's
data sklearn gives the same sequence for every random_state (no ties in the splits).
"""

from functools import cache

import numpy as np
import pytest

from graders import expect, forbid

SEQ_TOL = dict(rtol=1e-6, atol=1e-9)
# name: (max_depth, n_estimators)
CASES = {"wine": (1, 50), "breast_cancer": (1, 40), "blobs4": (2, 40)}


@cache
def dataset(name):
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    if name == "blobs4":
        X, y = datasets.make_classification(n_samples=600, n_features=10, n_informative=5,
                                            n_classes=4, n_clusters_per_class=1, random_state=17)
        y = np.array([10, 20, 30, 40])[y]  # labels that are not 0..K-1
    else:
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


@cache
def oracle(name):
    from sklearn.ensemble import AdaBoostClassifier
    from sklearn.tree import DecisionTreeClassifier

    depth, rounds = CASES[name]
    Xtr, _, ytr, _ = dataset(name)
    return AdaBoostClassifier(DecisionTreeClassifier(max_depth=depth), n_estimators=rounds,
                              random_state=0).fit(Xtr, ytr)


_fits = {}


def fitted(solution, name):
    if name not in _fits:
        depth, rounds = CASES[name]
        Xtr, _, ytr, _ = dataset(name)
        _fits[name] = solution.AdaBoostSAMME(n_estimators=rounds, max_depth=depth,
                                             random_state=0).fit(Xtr.copy(), ytr.copy())
    return _fits[name]


def vote_shares(sk, X):
    """sklearn's symmetric SAMME decision function turned back into weighted vote shares."""
    k = len(sk.classes_)
    d = sk.decision_function(X)
    if k == 2:  # sklearn returns 2 (v1 - v0) = 2 (2 v1 - 1)
        v1 = (d / 2 + 1) / 2
        return np.c_[1 - v1, v1]
    return (d * (k - 1) + 1) / k


def test_no_library_boosting(solution_dir):
    forbid.assert_not_used(solution_dir, ["sklearn.ensemble"],
                           why="write the boosting loop; sklearn.tree is allowed for the stumps")


def test_weighted_error(solution):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 50)
    pred = np.where(rng.random(50) < 0.3, (y + 1) % 3, y)
    w = rng.random(50)
    want = w[pred != y].sum() / w.sum()
    expect.close(solution.weighted_error(y, pred, w), want, rtol=1e-12, atol=1e-15,
                 what="weighted_error(y, pred, w)", oracle="Σ w[wrong] / Σ w")
    expect.close(solution.weighted_error(y, pred, 5 * w), want, rtol=1e-12, atol=1e-15,
                 what="weighted_error with weights that do not sum to 1",
                 oracle="Σ w[wrong] / Σ w (divide by the total weight)")


@pytest.mark.parametrize("error,k,lr", [(0.3, 2, 1.0), (0.3, 3, 1.0), (0.6, 3, 1.0),
                                        (0.85, 10, 0.5), (0.1, 4, 0.1)])
def test_samme_alpha(solution, error, k, lr):
    want = lr * (np.log((1 - error) / error) + np.log(k - 1))
    expect.close(solution.samme_alpha(error, k, lr), want, rtol=1e-12, atol=1e-15,
                 what=f"samme_alpha(error={error}, n_classes={k}, learning_rate={lr})",
                 oracle="learning_rate * (log((1 - err) / err) + log(K - 1))")


def test_update_weights(solution):
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 20)
    pred = np.where(rng.random(20) < 0.3, (y + 1) % 3, y)
    w = rng.random(20)
    w /= w.sum()
    before = w.copy()
    got = expect.array(solution.update_weights(w, y, pred, 0.7), "update_weights")
    want = w * np.exp(0.7 * (pred != y))
    expect.close(got, want / want.sum(), rtol=1e-12, atol=1e-15,
                 what="update_weights(w, y, pred, alpha=0.7)",
                 oracle="w * exp(alpha * [wrong]), normalised to sum 1 (right answers keep "
                        "their weight)")
    assert np.array_equal(w, before), "update_weights modified its input w"


@pytest.mark.parametrize("name", list(CASES))
def test_round_by_round_against_sklearn(solution, name):
    sk = oracle(name)
    model = fitted(solution, name)
    rounds = len(sk.estimators_)
    assert len(model.estimators_) == rounds, (
        f"{name}: {len(model.estimators_)} weak learners, sklearn keeps {rounds} (is each "
        "round's learner fitted with the current sample weights, and the loop stopped only "
        "by error 0 or error >= 1 - 1/K?)"
    )
    errors = expect.array(model.estimator_errors_, "estimator_errors_")
    weights = expect.array(model.estimator_weights_, "estimator_weights_")
    expect.close(errors, sk.estimator_errors_[:rounds], **SEQ_TOL, oracle="sklearn's AdaBoost",
                 what=f"estimator_errors_ (weighted error of each round) on {name}")
    expect.close(weights, sk.estimator_weights_[:rounds], **SEQ_TOL, oracle="sklearn's AdaBoost",
                 what=f"estimator_weights_ (alpha of each round) on {name}")


@pytest.mark.parametrize("name", list(CASES))
def test_votes_and_accuracy_against_sklearn(solution, name, record_metric):
    from sklearn.tree import DecisionTreeClassifier

    sk = oracle(name)
    Xtr, Xte, ytr, yte = dataset(name)
    model = fitted(solution, name)
    assert np.array_equal(np.asarray(model.classes_), sk.classes_), (
        f"classes_ is {model.classes_}, expected the sorted labels {sk.classes_}"
    )
    expect.close(model.decision_function(Xte), vote_shares(sk, Xte), rtol=0, atol=1e-9,
                 what=f"decision_function (alpha-weighted vote shares) on held-out {name}",
                 oracle="sklearn's AdaBoost")
    pred = np.asarray(model.predict(Xte))
    acc, sk_acc = float(np.mean(pred == yte)), sk.score(Xte, yte)
    depth = CASES[name][0]
    single = DecisionTreeClassifier(max_depth=depth).fit(Xtr, ytr).score(Xte, yte)
    record_metric(f"accuracy_{name}", acc, target=f"== sklearn {sk_acc:.3f}")
    record_metric(f"single_learner_accuracy_{name}", single)
    assert np.array_equal(pred, sk.predict(Xte)), (
        f"{name}: {np.sum(pred != sk.predict(Xte))} held-out predictions differ from sklearn's "
        f"(accuracy {acc:.3f} vs {sk_acc:.3f})"
    )
    assert acc >= single + 0.03, f"boosting ({acc:.3f}) should beat one learner ({single:.3f})"


def test_a_perfect_learner_stops_the_loop(solution):
    rng = np.random.default_rng(3)
    X = np.c_[rng.normal(size=40), np.r_[np.zeros(20), np.ones(20)]]
    y = np.r_[np.zeros(20, int), np.ones(20, int)]
    model = solution.AdaBoostSAMME(n_estimators=10).fit(X, y)
    assert len(model.estimators_) == 1, (
        f"the first stump classifies perfectly (error 0): stop there; got "
        f"{len(model.estimators_)} learners"
    )
    expect.close(model.estimator_weights_, [1.0], what="estimator_weights_ after a perfect round",
                 oracle="weight 1 (log((1 - 0) / 0) is infinite)")
    assert np.array_equal(model.predict(X), y), "a perfect ensemble must predict its training set"


def test_a_first_learner_at_chance_level_raises(solution):
    # nothing to split on and two balanced classes: the stump's weighted error is exactly
    # 0.5 = 1 − 1/K, no better than chance ("≥", not ">"), and it is the first learner
    X, y = np.zeros((4, 2)), np.array([0, 0, 1, 1])
    expect.raises(ValueError, solution.AdaBoostSAMME(n_estimators=5).fit, X, y,
                  what="AdaBoostSAMME.fit",
                  why="a first learner with error exactly 1 − 1/K = 0.5 (no better than chance)")


def test_learning_rate_reaches_the_booster(solution):
    from sklearn.ensemble import AdaBoostClassifier
    from sklearn.tree import DecisionTreeClassifier

    Xtr, _, ytr, _ = dataset("wine")
    sk = AdaBoostClassifier(DecisionTreeClassifier(max_depth=1), n_estimators=10,
                            learning_rate=0.5, random_state=0).fit(Xtr, ytr)
    model = solution.AdaBoostSAMME(n_estimators=10, learning_rate=0.5, max_depth=1,
                                   random_state=0).fit(Xtr.copy(), ytr.copy())
    expect.close(expect.array(model.estimator_weights_, "estimator_weights_"),
                 sk.estimator_weights_[:len(sk.estimators_)], **SEQ_TOL,
                 what="estimator_weights_ with learning_rate=0.5 on wine",
                 oracle="sklearn's AdaBoost (α = learning_rate·(...): use the booster's rate)")


"""Day 29 grader: K-fold and stratified K-fold indices, parameter grids and grid search.

Oracle: scikit-learn's KFold, StratifiedKFold, ParameterGrid and GridSearchCV (which the
solution may not use), on sorted, shuffled, imbalanced and string-labelled targets.
"""

import numpy as np
import pytest
from sklearn import datasets
from sklearn.model_selection import GridSearchCV, KFold, ParameterGrid, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from graders import expect, forbid

MODEL_SELECTION = [f"sklearn.model_selection.{name}" for name in (
    "KFold", "StratifiedKFold", "RepeatedKFold", "RepeatedStratifiedKFold", "ParameterGrid",
    "GridSearchCV", "cross_val_score", "cross_validate", "train_test_split")]
TIE = 1e-9


def call(fn, *args, **kwargs):
    with forbid.calls(*MODEL_SELECTION):
        return fn(*args, **kwargs)


def check_folds(got, want, what):
    assert isinstance(got, list | tuple) and len(got) == len(want), (
        f"{what}: expected a list of {len(want)} (train, test) pairs, got "
        f"{len(got) if isinstance(got, list | tuple) else type(got).__name__}")
    for k, (pair, (train, test)) in enumerate(zip(got, want, strict=True)):
        g_train, g_test = (np.asarray(a) for a in pair)
        for name, g, w in (("test", g_test, test), ("train", g_train, train)):
            assert np.array_equal(g, w), (
                f"{what}: fold {k} {name} indices differ from scikit-learn's "
                f"(got {_preview(g)}, expected {_preview(w)}; indices ascending)")


def _preview(a):
    a = np.asarray(a).tolist()
    return str(a) if len(a) <= 12 else f"{a[:12]}… ({len(a)} in all)"


def test_no_sklearn_model_selection(solution_dir):
    forbid.assert_not_used(solution_dir, ["sklearn.model_selection"],
                           why="day 29 writes the splitters and the search")


# ---- K-fold ----------------------------------------------------------------------------------


@pytest.mark.parametrize("n_samples", [7, 10, 11, 150])
@pytest.mark.parametrize("n_splits", [2, 3, 5])
def test_kfold_matches_sklearn(solution, n_samples, n_splits):
    for shuffle, seed in ((False, None), (True, 0), (True, 42)):
        got = call(solution.kfold_indices, n_samples, n_splits, shuffle=shuffle,
                   random_state=seed)
        want = list(KFold(n_splits, shuffle=shuffle, random_state=seed).split(np.zeros(n_samples)))
        check_folds(got, want, f"kfold_indices({n_samples}, {n_splits}, shuffle={shuffle}, "
                               f"random_state={seed})")


def test_kfold_rejects_impossible_splits(solution):
    expect.raises(ValueError, solution.kfold_indices, 4, 5, what="kfold_indices",
                  why="5 folds of 4 samples")
    expect.raises(ValueError, solution.kfold_indices, 10, 1, what="kfold_indices",
                  why="n_splits=1")


# ---- stratified K-fold -----------------------------------------------------------------------


def targets():
    rng = np.random.default_rng(29)
    return {
        "iris (sorted by class)": datasets.load_iris().target,
        "letters, first-seen order c, b, a": np.array(list("cbacbbbcaacbbbbcbabbcacb")),
        "4 random classes": rng.integers(0, 4, 97),
        "imbalanced 60/30/10 %": rng.choice(np.array(["z", "a", "m"]), 60, p=[0.6, 0.3, 0.1]),
    }


TARGETS = targets()


@pytest.mark.parametrize("name", list(TARGETS))
@pytest.mark.parametrize("n_splits", [2, 3, 5])
def test_stratified_kfold_matches_sklearn(solution, name, n_splits):
    y = TARGETS[name]
    for shuffle, seed in ((False, None), (True, 0), (True, 7)):
        got = call(solution.stratified_kfold_indices, y.copy(), n_splits, shuffle=shuffle,
                   random_state=seed)
        want = list(StratifiedKFold(n_splits, shuffle=shuffle, random_state=seed)
                    .split(np.zeros(len(y)), y))
        check_folds(got, want, f"stratified_kfold_indices({name}, {n_splits}, "
                               f"shuffle={shuffle}, random_state={seed})")


def test_stratified_folds_keep_class_proportions(solution):
    y = TARGETS["imbalanced 60/30/10 %"]
    folds = call(solution.stratified_kfold_indices, y.copy(), 5)
    for k, (_, test) in enumerate(folds):
        for label in np.unique(y):
            share = np.sum(y[np.asarray(test)] == label)
            ideal = np.sum(y == label) / 5
            assert abs(share - ideal) < 1, (
                f"fold {k} holds {share} samples of class {label!r}; a stratified fold holds "
                f"{ideal:g} (±1)")


def test_stratified_rejects_classes_smaller_than_the_folds(solution):
    expect.raises(ValueError, solution.stratified_kfold_indices, np.array([0, 0, 1, 1, 2, 2]), 3,
                  what="stratified_kfold_indices", why="3 folds and no class with 3 members")


def test_stratified_accepts_a_class_smaller_than_the_folds(solution):
    # only *every* class smaller than n_splits is an error; one small class is allowed
    # (scikit-learn only warns), its samples simply miss some test folds
    import warnings

    y = np.array(["a"] * 8 + ["b"] * 2)
    try:
        got = call(solution.stratified_kfold_indices, y.copy(), 3)
    except ValueError as exc:
        raise AssertionError(
            f"stratified_kfold_indices raised ValueError ({exc}) for 3 folds where class 'a' "
            "has 8 members: raise only when n_splits exceeds the size of every class") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = list(StratifiedKFold(3).split(np.zeros(len(y)), y))
    check_folds(got, want, "stratified_kfold_indices(8 a's and 2 b's, 3)")


# ---- parameter grids -------------------------------------------------------------------------

GRIDS = {
    "one dict": {"weights": ["uniform", "distance"], "n_neighbors": [1, 5, 9]},
    "three keys": {"c": [1, 2], "a": ["x", "y", "z"], "b": [True]},
    "a list of dicts": [{"max_depth": [1, 3], "criterion": ["gini"]}, {"min_samples_leaf": [5]}],
    "empty": {},
}


@pytest.mark.parametrize("name", list(GRIDS))
def test_parameter_grid_matches_sklearn_order(solution, name):
    got = call(solution.parameter_grid, GRIDS[name])
    want = list(ParameterGrid(GRIDS[name]))
    assert list(got) == want, (
        f"parameter_grid({name}) = {list(got)}, expected {want} (keys in sorted order, the last "
        "key varying fastest; dicts of a list one after another)")


# ---- grid search -----------------------------------------------------------------------------

SEARCHES = {
    "k-NN on iris": (KNeighborsClassifier(), {"n_neighbors": [1, 3, 5, 7, 9, 11, 15, 21],
                                              "weights": ["uniform", "distance"]}, "iris"),
    "k-NN on iris, tied best": (KNeighborsClassifier(),
                                {"n_neighbors": [1, 3, 5, 7, 9, 11, 15, 21]}, "iris"),
    "list of grids on wine": (KNeighborsClassifier(),
                              [{"n_neighbors": [3, 9, 21], "weights": ["uniform"]},
                               {"n_neighbors": [7, 11], "weights": ["distance", "uniform"]}],
                              "wine"),
    "tree on breast cancer": (DecisionTreeClassifier(random_state=0),
                              {"max_depth": [1, 2, 3, 4, None],
                               "criterion": ["gini", "entropy"]}, "breast_cancer"),
}


@pytest.mark.parametrize("name", list(SEARCHES))
def test_grid_search_matches_gridsearchcv(solution, name):
    estimator, grid, data = SEARCHES[name]
    X, y = getattr(datasets, f"load_{data}")(return_X_y=True)
    before = estimator.get_params()
    got = call(solution.grid_search, estimator, grid, X.copy(), y.copy(), n_splits=5)
    assert isinstance(got, dict) and {"best_params", "best_score", "mean_scores"} <= set(got), (
        "grid_search must return a dict with 'best_params', 'best_score' and 'mean_scores'")
    assert estimator.get_params() == before, (
        "grid_search changed the estimator it was given: clone it for every fit")
    search = GridSearchCV(estimator, grid, cv=StratifiedKFold(5)).fit(X, y)
    means = search.cv_results_["mean_test_score"]
    expect.close(got["mean_scores"], means,
                 what=f"{name}: mean fold accuracy of each candidate (in parameter_grid order)",
                 rtol=1e-12, atol=1e-12, oracle="GridSearchCV with StratifiedKFold(5)")
    best = int(np.flatnonzero(means >= means.max() - TIE)[0])
    assert got["best_params"] == search.cv_results_["params"][best], (
        f"{name}: best_params {got['best_params']} — the best mean is {means.max():.4f}, and the "
        f"first candidate reaching it is {search.cv_results_['params'][best]} (ties go to the "
        "first candidate in grid order)")
    expect.close(got["best_score"], means[best], what=f"{name}: best_score", rtol=1e-12,
                 oracle="GridSearchCV")

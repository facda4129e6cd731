"""Day 29 reference: K-fold and stratified K-fold splits, parameter grids, grid search."""

import itertools

import numpy as np
from sklearn.base import clone


def _check_splits(n_splits, n_samples):
    if not isinstance(n_splits, int | np.integer) or n_splits < 2:
        raise ValueError(f"n_splits must be an integer >= 2, got {n_splits!r}")
    if n_splits > n_samples:
        raise ValueError(f"n_splits={n_splits} > the number of samples ({n_samples})")


def _pairs(test_folds, n_splits):
    """(train, test) index arrays, ascending, from each sample's test-fold number."""
    indices = np.arange(len(test_folds))
    return [(indices[test_folds != k], indices[test_folds == k]) for k in range(n_splits)]


def kfold_indices(n_samples, n_splits=5, shuffle=False, random_state=None):
    """Consecutive folds of (optionally shuffled) indices; the first n_samples % n_splits
    folds get one extra sample."""
    _check_splits(n_splits, n_samples)
    order = np.arange(n_samples)
    if shuffle:
        np.random.RandomState(random_state).shuffle(order)
    sizes = np.full(n_splits, n_samples // n_splits)
    sizes[: n_samples % n_splits] += 1
    test_folds = np.empty(n_samples, dtype=int)
    for k, (start, stop) in enumerate(zip(np.r_[0, np.cumsum(sizes)[:-1]], np.cumsum(sizes),
                                          strict=True)):
        test_folds[order[start:stop]] = k
    return _pairs(test_folds, n_splits)


def stratified_kfold_indices(y, n_splits=5, shuffle=False, random_state=None):
    """Folds that keep every class's proportion, allocated as scikit-learn does."""
    y = np.asarray(y)
    _check_splits(n_splits, len(y))
    # number the classes in order of first appearance
    _, first, inverse = np.unique(y, return_index=True, return_inverse=True)
    rank_of_first = np.argsort(np.argsort(first))
    codes = rank_of_first[inverse.ravel()]
    counts = np.bincount(codes)
    if np.all(n_splits > counts):
        raise ValueError(f"n_splits={n_splits} is larger than every class")
    # deal the sorted codes round-robin to the folds: fold k gets sorted[k::n_splits]
    dealt = np.sort(codes)
    allocation = np.array([np.bincount(dealt[k::n_splits], minlength=len(counts))
                           for k in range(n_splits)])
    rng = np.random.RandomState(random_state)
    test_folds = np.empty(len(y), dtype=int)
    for c in range(len(counts)):
        folds_of_class = np.repeat(np.arange(n_splits), allocation[:, c])
        if shuffle:
            rng.shuffle(folds_of_class)
        test_folds[codes == c] = folds_of_class  # in order of appearance within the class
    return _pairs(test_folds, n_splits)


def parameter_grid(param_grid):
    """Every combination, as scikit-learn's ParameterGrid lists them: for each dict, keys
    in sorted order, the last key varying fastest; several dicts one after another."""
    grids = [param_grid] if isinstance(param_grid, dict) else list(param_grid)
    candidates = []
    for grid in grids:
        keys = sorted(grid)
        for values in itertools.product(*(grid[k] for k in keys)):
            candidates.append(dict(zip(keys, values, strict=True)))
    return candidates


def grid_search(estimator, param_grid, X, y, n_splits=5):
    """Mean stratified-K-fold accuracy of every candidate; the best is the first whose
    mean is within 1e-9 of the highest."""
    X, y = np.asarray(X), np.asarray(y)
    folds = stratified_kfold_indices(y, n_splits)
    candidates = parameter_grid(param_grid)
    means = []
    for params in candidates:
        scores = []
        for train, test in folds:
            model = clone(estimator).set_params(**params)  # never touch the caller's estimator
            model.fit(X[train], y[train])
            scores.append(model.score(X[test], y[test]))
        means.append(float(np.mean(scores)))
    top = max(means)
    best = next(i for i, m in enumerate(means) if m >= top - 1e-9)
    return {"best_params": candidates[best], "best_score": means[best], "mean_scores": means}

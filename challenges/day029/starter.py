"""Day 29: K-fold / stratified splits, parameter grids and grid search (no
sklearn.model_selection; sklearn.base.clone and the estimators themselves are fine)."""

import numpy as np  # noqa: F401
from sklearn.base import clone  # noqa: F401


def kfold_indices(n_samples, n_splits=5, shuffle=False, random_state=None):
    """[(train_idx, test_idx), ...] for n_splits folds; int arrays in ascending order."""
    # TODO
    raise NotImplementedError("kfold_indices")


def stratified_kfold_indices(y, n_splits=5, shuffle=False, random_state=None):
    """Like kfold_indices, but every fold keeps the class proportions of y."""
    # TODO
    raise NotImplementedError("stratified_kfold_indices")


def parameter_grid(param_grid):
    """All parameter combinations of a dict {name: [values]} or a list of such dicts, as a
    list of dicts, in scikit-learn's ParameterGrid order."""
    # TODO
    raise NotImplementedError("parameter_grid")


def grid_search(estimator, param_grid, X, y, n_splits=5):
    """Stratified K-fold grid search of a classifier by accuracy.

    Returns {"best_params": dict, "best_score": float, "mean_scores": [float per candidate,
    in parameter_grid order]}.
    """
    # TODO
    raise NotImplementedError("grid_search")

# mistake: initial factors drawn from the unseeded global numpy generator
# expect: same seed predict differently
from dataclasses import dataclass

import numpy as np


@dataclass
class MFModel:
    mu: float
    user_bias: np.ndarray  # (n_users,)
    item_bias: np.ndarray  # (n_items,)
    P: np.ndarray  # (n_users, k) user factors
    Q: np.ndarray  # (n_items, k) item factors


def _solve_side(rows, cols, resid, other, n_rows, reg):
    """For each row entity, ridge-regress its residual ratings on [other factors, 1]:
    returns (factors, biases). Entities without ratings get zeros."""
    k = other.shape[1]
    factors, biases = np.zeros((n_rows, k)), np.zeros(n_rows)
    design_all = np.column_stack([other, np.ones(len(other))])
    penalty = reg * np.eye(k + 1)
    order = np.argsort(rows, kind="stable")
    bounds = np.searchsorted(rows[order], np.arange(n_rows + 1))
    for r in range(n_rows):
        idx = order[bounds[r]:bounds[r + 1]]
        if len(idx) == 0:
            continue
        A = design_all[cols[idx]]
        x = np.linalg.solve(A.T @ A + penalty, A.T @ resid[idx])
        factors[r], biases[r] = x[:k], x[k]
    return factors, biases


def fit_mf(ratings, n_users, n_items, k=4, reg=1.0, n_epochs=15, seed=0):
    """Fit the model to ratings, an (m, 3) array of (user, item, rating) rows."""
    ratings = np.asarray(ratings, dtype=float)
    users, items, r = ratings[:, 0].astype(int), ratings[:, 1].astype(int), ratings[:, 2]
    rng = np.random.default_rng(seed)
    mu = float(r.mean())
    P = 0.1 * np.random.standard_normal((n_users, k))
    Q = 0.1 * np.random.standard_normal((n_items, k))
    bu, bi = np.zeros(n_users), np.zeros(n_items)
    for _ in range(n_epochs):
        # users given items: the residual after removing mu and the item biases
        P, bu = _solve_side(users, items, r - mu - bi[items], Q, n_users, reg)
        Q, bi = _solve_side(items, users, r - mu - bu[users], P, n_items, reg)
    return MFModel(mu, bu, bi, P, Q)


def predict(model, users, items):
    """Predicted ratings for the (user, item) pairs, a float array."""
    users, items = np.asarray(users, dtype=int), np.asarray(items, dtype=int)
    return (model.mu + model.user_bias[users] + model.item_bias[items]
            + np.sum(model.P[users] * model.Q[items], axis=1))

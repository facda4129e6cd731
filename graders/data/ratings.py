"""A synthetic ratings set with a known low-rank structure, for collaborative filtering.

    from graders.data.ratings import low_rank_ratings
    data = low_rank_ratings()          # the set the day-26 grader uses
    data.train, data.test              # (m, 3) float arrays of (user, item, rating) rows

Ratings are mu + b_user + b_item + p_user · q_item (rank 3) plus Gaussian noise (sd 0.3),
on about a sixth of all (user, item) pairs: users rate a heavy-tailed number of items
(2 to 120), popular items are rated more often. A fifth of the ratings are held out as the
test set, and a few users and items appear only there (cold start).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Ratings:
    train: np.ndarray  # (m, 3): user id, item id, rating
    test: np.ndarray  # (t, 3)
    n_users: int
    n_items: int
    noise_sd: float  # the irreducible error: no model can have a test RMSE far below it
    cold_users: np.ndarray  # user ids with no training rating
    cold_items: np.ndarray  # item ids with no training rating


def low_rank_ratings(seed: int = 26, n_users: int = 300, n_items: int = 200, rank: int = 3,
                     noise_sd: float = 0.3, n_cold: int = 8) -> Ratings:
    rng = np.random.default_rng(seed)
    U = rng.normal(0.0, 0.7, (n_users, rank))
    V = rng.normal(0.0, 0.7, (n_items, rank))
    user_bias = rng.normal(0.0, 0.4, n_users)
    item_bias = rng.normal(0.0, 0.4, n_items)
    full = 3.5 + user_bias[:, None] + item_bias[None, :] + U @ V.T
    popularity = rng.gamma(1.0, 1.0, n_items)
    popularity /= popularity.sum()
    counts = np.clip(np.round(rng.lognormal(3.0, 0.7, n_users)).astype(int), 2, 120)
    rows = []
    for u in range(n_users):
        for i in rng.choice(n_items, size=counts[u], replace=False, p=popularity):
            rows.append((u, i, full[u, i] + noise_sd * rng.standard_normal()))
    R = np.array(rows)
    order = rng.permutation(len(R))
    n_test = len(R) // 5
    test_mask = np.zeros(len(R), dtype=bool)
    test_mask[order[:n_test]] = True
    # cold start: the last users and the least popular rated items keep no training rating
    cold_users = np.arange(n_users - n_cold, n_users)
    rated_items = np.unique(R[:, 1].astype(int))
    cold_items = rated_items[np.argsort(popularity[rated_items])[:n_cold]]
    test_mask |= np.isin(R[:, 0].astype(int), cold_users) | np.isin(R[:, 1].astype(int), cold_items)
    return Ratings(R[~test_mask], R[test_mask], n_users, n_items, noise_sd,
                   cold_users, np.sort(cold_items))

"""Day 26: matrix-factorisation collaborative filtering (ALS or SGD), numpy only."""

import numpy as np  # noqa: F401


def fit_mf(ratings, n_users, n_items, seed=0):
    """Fit a matrix-factorisation model to the observed ratings.

    ratings: (m, 3) float array of rows (user id, item id, rating); ids are 0-based
    integers stored as floats, users < n_users, items < n_items. Some users and items have
    no rating at all. Returns any object your predict() understands. Every random number
    comes from seed. Add keyword parameters with defaults (k, reg, epochs, ...) as you like.
    """
    # TODO: r̂ = mu + b_u + b_i + p_u · q_i fitted by ALS or SGD on the observed entries
    raise NotImplementedError("fit_mf")


def predict(model, users, items):
    """Predicted ratings for the pairs (users[j], items[j]): a float array of len(users)."""
    # TODO
    raise NotImplementedError("predict")

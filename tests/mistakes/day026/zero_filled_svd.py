# mistake: missing ratings treated as zeros: truncated SVD of the filled matrix
# expect: missing is not zero
import numpy as np


def fit_mf(ratings, n_users, n_items, k=4, seed=0):
    """Truncated SVD of the rating matrix with the missing entries filled with zeros."""
    ratings = np.asarray(ratings, dtype=float)
    M = np.zeros((n_users, n_items))
    M[ratings[:, 0].astype(int), ratings[:, 1].astype(int)] = ratings[:, 2]
    U, S, Vt = np.linalg.svd(M, full_matrices=False)
    return (U[:, :k] * S[:k]) @ Vt[:k]


def predict(model, users, items):
    return model[np.asarray(users, dtype=int), np.asarray(items, dtype=int)]

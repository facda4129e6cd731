# mistake: random_state not passed to umap.UMAP
# expect: random_state
import time

import numpy as np

# ---- embedding quality -----------------------------------------------------------------------


def _sq_dists(A):
    A = np.asarray(A, dtype=float)
    sq = np.sum(A * A, axis=1)
    D2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * A @ A.T, 0.0)
    np.fill_diagonal(D2, 0.0)
    return D2


def _neighbour_order(A):
    """Row i: the other points sorted from nearest to farthest (self excluded)."""
    D2 = _sq_dists(A)
    np.fill_diagonal(D2, np.inf)  # the point itself sorts last, and is then dropped
    return np.argsort(D2, axis=1, kind="stable")[:, :-1]


def trustworthiness(X, Y, n_neighbors=5):
    """T(k) = 1 − 2 / (n k (2n − 3k − 1)) · Σ_i Σ_(j ∈ U_i) (r(i, j) − k), where U_i are the
    k nearest neighbours of i in the embedding Y that are not among its k nearest in X, and
    r(i, j) is the rank of j among i's neighbours in X (1 = nearest)."""
    n, k = len(X), n_neighbors
    order_X = _neighbour_order(X)
    rank_X = np.empty((n, n), dtype=np.int64)
    rows = np.arange(n)[:, None]
    rank_X[rows, order_X] = np.arange(1, n)  # ranks 1 .. n-1 of every other point
    knn_Y = _neighbour_order(Y)[:, :k]
    excess = rank_X[rows, knn_Y] - k
    penalty = np.sum(excess[excess > 0])  # ranks <= k are also neighbours in X: no penalty
    return float(1.0 - 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)) * penalty)


def knn_accuracy(Y, labels, k=5):
    """Leave-one-out k-NN accuracy: each point takes the most common label among its k
    nearest *other* points (ties between labels go to the smallest label)."""
    labels = np.asarray(labels)
    classes, codes = np.unique(labels, return_inverse=True)
    knn = _neighbour_order(Y)[:, :k]
    votes = np.zeros((len(labels), len(classes)), dtype=np.int64)
    np.add.at(votes, (np.arange(len(labels))[:, None], codes[knn]), 1)
    predicted = np.argmax(votes, axis=1)  # argmax returns the first, i.e. smallest, label
    return float(np.mean(predicted == codes))


# ---- the two embeddings --------------------------------------------------------------------


def umap_embedding(X, n_neighbors=15, min_dist=0.1, random_state=0):
    """UMAP of X into 2-D with umap-learn; random_state makes it reproducible."""
    import umap  # imported here: the first fit also compiles umap's numba kernels (slow)

    reducer = umap.UMAP(n_neighbors=n_neighbors, min_dist=min_dist, n_components=2)
    return reducer.fit_transform(np.asarray(X, dtype=float))


def _conditional_probabilities(D2, perplexity, tol=1e-5, max_iter=200):
    n = len(D2)
    target = np.log(perplexity)
    P = np.zeros((n, n))
    for i in range(n):
        d2 = np.delete(D2[i], i)
        d2 = d2 - d2.min()
        beta, lo, hi = 1.0, 0.0, np.inf
        for _ in range(max_iter):
            logits = -beta * d2
            p = np.exp(logits)
            total = p.sum()
            p /= total
            entropy = np.log(total) - np.sum(p * logits)
            if abs(entropy - target) < tol:
                break
            if entropy > target:
                lo = beta
                beta = beta * 2.0 if hi == np.inf else (beta + hi) / 2.0
            else:
                hi = beta
                beta = (beta + lo) / 2.0
        P[i, np.arange(n) != i] = p
    return P


def tsne_embedding(X, perplexity=30.0, random_state=0, n_iter=500):
    """Our own exact t-SNE from day 22 (momentum, gains, early exaggeration)."""
    X = np.asarray(X, dtype=float)
    n = len(X)
    P = _conditional_probabilities(_sq_dists(X), perplexity)
    P = np.maximum((P + P.T) / (2.0 * n), 1e-12)
    P /= P.sum()
    learning_rate = max(n / 48.0, 50.0)
    rng = np.random.default_rng(random_state)
    Y = 1e-4 * rng.standard_normal((n, 2))
    velocity, gains = np.zeros_like(Y), np.ones_like(Y)
    for it in range(n_iter):
        early = it < 250
        W = 1.0 / (1.0 + _sq_dists(Y))
        np.fill_diagonal(W, 0.0)
        M = ((12.0 if early else 1.0) * P - W / W.sum()) * W
        grad = 4.0 * (M.sum(axis=1)[:, None] * Y - M @ Y)
        gains = np.where(np.sign(grad) == np.sign(velocity), gains * 0.8, gains + 0.2).clip(0.01)
        velocity = (0.5 if early else 0.8) * velocity - learning_rate * gains * grad
        Y = Y + velocity
        Y -= Y.mean(axis=0)
    return Y


# ---- the comparison --------------------------------------------------------------------------


def compare(X, labels, random_state=0):
    """Embed X with UMAP and with t-SNE and score both the same way."""
    table = {}
    for name, embed in (("umap", umap_embedding), ("tsne", tsne_embedding)):
        start = time.perf_counter()
        Y = np.asarray(embed(X, random_state=random_state))
        seconds = time.perf_counter() - start
        table[name] = {
            "embedding": Y,
            "trustworthiness": trustworthiness(X, Y, n_neighbors=10),
            "knn_accuracy": knn_accuracy(Y, labels, k=5),
            "seconds": seconds,
        }
    return table

"""Day 23: UMAP (umap-learn) against your own t-SNE, scored the same way."""

import time  # noqa: F401  (for the timings in compare)

import numpy as np  # noqa: F401


def trustworthiness(X, Y, n_neighbors=5):
    """How well the embedding Y (n, m) keeps the neighbourhoods of X (n, d); a float <= 1.

    T(k) = 1 − 2 / (n k (2n − 3k − 1)) · Σ_i Σ_(j ∈ U_i) (r(i, j) − k)
    U_i: the k nearest neighbours of i in Y that are not among its k nearest in X;
    r(i, j): the rank of j among i's neighbours in X (1 = nearest, i itself excluded).
    """
    # TODO
    raise NotImplementedError("trustworthiness")


def knn_accuracy(Y, labels, k=5):
    """Leave-one-out k-NN accuracy of labels (n,) in the embedding Y (n, m); a float in [0, 1].

    Each point is predicted by the most common label among its k nearest OTHER points;
    ties between labels go to the smallest label.
    """
    # TODO
    raise NotImplementedError("knn_accuracy")


def umap_embedding(X, n_neighbors=15, min_dist=0.1, random_state=0):
    """The 2-D UMAP embedding of X (n, d) computed by umap-learn, shape (n, 2)."""
    # TODO: import umap; umap.UMAP(...).fit_transform(X)
    raise NotImplementedError("umap_embedding")


def tsne_embedding(X, perplexity=30.0, random_state=0):
    """Your own t-SNE from day 22: the 2-D embedding of X, shape (n, 2), seeded."""
    # TODO: bring your day-22 t-SNE here (or into a helper module beside this file)
    raise NotImplementedError("tsne_embedding")


def compare(X, labels, random_state=0):
    """Embed X with both methods and score them.

    Returns {"umap": row, "tsne": row}, each row a dict with
      "embedding": the (n, 2) array,
      "trustworthiness": trustworthiness(X, embedding, n_neighbors=10),
      "knn_accuracy": knn_accuracy(embedding, labels, k=5),
      "seconds": wall-clock seconds the embedding took.
    """
    # TODO
    raise NotImplementedError("compare")

"""Day 22: t-SNE from scratch (numpy only; no library t-SNE)."""

import numpy as np  # noqa: F401  (arrays and elementwise maths are allowed)


def conditional_probabilities(D2, perplexity):
    """The conditional affinities p_(j|i) of t-SNE.

    D2: (n, n) float array of SQUARED Euclidean distances (zero diagonal).
    perplexity: float with 1 < perplexity < n.
    Returns P, (n, n) float array: row i is p_(j|i) ∝ exp(-beta_i · D2[i, j]) over j != i,
    with beta_i chosen so that exp(entropy of row i, in nats) == perplexity; P[i, i] == 0;
    every row sums to 1.
    """
    # TODO: for each row, bisect on beta_i until the row's entropy is log(perplexity)
    raise NotImplementedError("conditional_probabilities")


def joint_probabilities(X, perplexity):
    """The symmetric affinities p_ij = (p_(j|i) + p_(i|j)) / (2n) of the rows of X (n, d).

    Returns an (n, n) symmetric array with zero diagonal that sums to 1.
    """
    # TODO: squared distances -> conditional_probabilities -> symmetrise
    raise NotImplementedError("joint_probabilities")


def kl_divergence(P, Y):
    """KL(P || Q) and its gradient for an embedding Y (n, d) and a joint P (n, n).

    Q is the Student-t affinity: q_ij = (1 + |y_i - y_j|²)^-1 / Σ_(k≠l) (1 + |y_k - y_l|²)^-1.
    Returns (kl, grad): kl a float (sum over p_ij > 0 of p_ij log(p_ij / q_ij)), grad (n, d).
    """
    # TODO
    raise NotImplementedError("kl_divergence")


def tsne(X, n_components=2, perplexity=30.0, random_state=0):
    """Embed the rows of X (n, d) into (n, n_components) by minimising KL(P || Q).

    The same random_state must give the same embedding. You may add keyword arguments
    with defaults (n_iter, learning_rate, ...); the grader passes only these four.
    """
    # TODO: joint_probabilities, a small seeded random start, then gradient descent with
    # momentum and early exaggeration
    raise NotImplementedError("tsne")

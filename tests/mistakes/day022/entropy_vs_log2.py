# mistake: entropy computed in nats but compared with log2(perplexity)
# expect: has perplexity
import numpy as np


def squared_distances(X):
    """Pairwise squared Euclidean distances, (n, n), exact zeros on the diagonal."""
    X = np.asarray(X, dtype=float)
    sq = np.sum(X * X, axis=1)
    D2 = sq[:, None] + sq[None, :] - 2.0 * X @ X.T
    np.maximum(D2, 0.0, out=D2)  # round-off can make a few entries slightly negative
    np.fill_diagonal(D2, 0.0)
    return D2


def _row_probabilities(d2, beta):
    """p_j ∝ exp(-beta d2_j) and its entropy in nats; d2 excludes the point itself."""
    logits = -beta * (d2 - d2.min())  # shifting by the minimum avoids underflow to all-zeros
    p = np.exp(logits)
    total = p.sum()
    p /= total
    entropy = np.log(total) - np.sum(p * logits)  # H = -Σ p log p, computed stably
    return p, entropy


def conditional_probabilities(D2, perplexity, tol=1e-5, max_iter=200):
    """p_{j|i} with a per-point precision beta_i = 1 / (2 sigma_i²) found by bisection so that
    exp(H(P_i)) equals the perplexity; rows sum to 1, the diagonal is 0."""
    D2 = np.asarray(D2, dtype=float)
    n = D2.shape[0]
    if not 0 < perplexity < n:
        raise ValueError(f"perplexity must be in (0, n={n}), got {perplexity}")
    target = np.log2(perplexity)
    P = np.zeros((n, n))
    for i in range(n):
        d2 = np.delete(D2[i], i)
        beta, lo, hi = 1.0, 0.0, np.inf
        for _ in range(max_iter):
            p, entropy = _row_probabilities(d2, beta)
            if abs(entropy - target) < tol:
                break
            if entropy > target:  # too flat: sharpen (raise beta)
                lo = beta
                beta = beta * 2.0 if hi == np.inf else (beta + hi) / 2.0
            else:  # too peaked: widen (lower beta)
                hi = beta
                beta = (beta + lo) / 2.0
        P[i, np.arange(n) != i] = p
    return P


def joint_probabilities(X, perplexity):
    """The symmetric t-SNE affinities p_ij = (p_{j|i} + p_{i|j}) / (2n); they sum to 1."""
    P = conditional_probabilities(squared_distances(X), perplexity)
    return (P + P.T) / (2.0 * P.shape[0])


def _student_t(Y):
    """The unnormalised Student-t kernel w_ij = 1 / (1 + |y_i - y_j|²), zero diagonal."""
    W = 1.0 / (1.0 + squared_distances(Y))
    np.fill_diagonal(W, 0.0)
    return W


def _gradient(P, Y, W):
    """dKL/dY = 4 Σ_j (p_ij - q_ij) w_ij (y_i - y_j), with q_ij = w_ij / Σ w."""
    M = (P - W / W.sum()) * W
    return 4.0 * (M.sum(axis=1)[:, None] * Y - M @ Y)


def kl_divergence(P, Y):
    """KL(P || Q) for the Student-t (1 degree of freedom) affinities Q of the embedding Y,
    and its gradient with respect to Y, (n, d)."""
    P, Y = np.asarray(P, dtype=float), np.asarray(Y, dtype=float)
    W = _student_t(Y)
    Q = W / W.sum()
    mask = P > 0
    kl = float(np.sum(P[mask] * np.log(P[mask] / np.maximum(Q[mask], 1e-300))))
    return kl, _gradient(P, Y, W)


def tsne(X, n_components=2, perplexity=30.0, n_iter=500, learning_rate=None,
         early_exaggeration=12.0, random_state=0):
    """Embed X (n, d) into (n, n_components) by gradient descent on KL(P || Q)."""
    X = np.asarray(X, dtype=float)
    n = X.shape[0]
    P = np.maximum(joint_probabilities(X, perplexity), 1e-12)
    P /= P.sum()
    if learning_rate is None:
        # the "auto" rule of openTSNE and scikit-learn
        learning_rate = max(n / early_exaggeration / 4.0, 50.0)
    rng = np.random.default_rng(random_state)
    Y = 1e-4 * rng.standard_normal((n, n_components))
    velocity = np.zeros_like(Y)
    gains = np.ones_like(Y)
    exaggerate_until = min(250, n_iter // 3)
    for it in range(n_iter):
        exaggeration = early_exaggeration if it < exaggerate_until else 1.0
        momentum = 0.5 if it < exaggerate_until else 0.8
        grad = _gradient(exaggeration * P, Y, _student_t(Y))
        # delta-bar-delta gains (Jacobs 1988): grow where the step keeps its sign
        same = np.sign(grad) == np.sign(velocity)
        gains = np.where(same, gains * 0.8, gains + 0.2).clip(0.01)
        velocity = momentum * velocity - learning_rate * gains * grad
        Y = Y + velocity
        Y -= Y.mean(axis=0)
    return Y

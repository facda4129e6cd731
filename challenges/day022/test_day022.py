"""Day 22 grader: t-SNE from scratch.

Oracles: an independent root-finder (scipy.optimize.brentq) for each point's Gaussian
precision, the closed-form KL divergence and gradient written here with explicit pairwise
differences, and scikit-learn's trustworthiness / k-NN accuracy for the embedding.
"""

import numpy as np
import pytest
from scipy.optimize import brentq
from threadpoolctl import threadpool_limits

from graders import expect, forbid

# Small matrices: one BLAS thread is as fast, and immune to a loaded machine.
threadpool_limits(1)

PERPLEXITY_RTOL = 1e-3
FORBIDDEN = ["sklearn.manifold.TSNE", "sklearn.manifold._t_sne", "openTSNE", "umap",
             "MulticoreTSNE", "tsnecuda"]
N_DIGITS = 300
TRUST_MIN = 0.95
KNN_MIN = 0.90


def sq_dists(X):
    diff = X[:, None, :] - X[None, :, :]
    return np.einsum("ijk,ijk->ij", diff, diff)


def oracle_conditional(D2, perplexity):
    """p_{j|i} ∝ exp(-beta_i d²_ij), beta_i solved to entropy log(perplexity) by brentq."""
    n = D2.shape[0]
    P = np.zeros((n, n))
    for i in range(n):
        d2 = np.delete(D2[i], i)
        d2 = d2 - d2.min()
        scale = np.median(d2[d2 > 0]) if np.any(d2 > 0) else 1.0

        def row(log_beta, d2=d2, scale=scale):
            logits = -np.exp(log_beta) / scale * d2
            w = np.exp(logits - logits.max())
            return w / w.sum()

        def excess_entropy(log_beta):
            p = row(log_beta)
            nz = p[p > 0]
            return -np.sum(nz * np.log(nz)) - np.log(perplexity)

        log_beta = brentq(excess_entropy, -30.0, 30.0, xtol=1e-13)
        P[i, np.arange(n) != i] = row(log_beta)
    return P


def oracle_kl_and_gradient(P, Y):
    diff = Y[:, None, :] - Y[None, :, :]
    W = 1.0 / (1.0 + np.einsum("ijk,ijk->ij", diff, diff))
    np.fill_diagonal(W, 0.0)
    Q = W / W.sum()
    nz = P > 0
    kl = np.sum(P[nz] * np.log(P[nz] / Q[nz]))
    grad = 4.0 * np.einsum("ij,ijk->ik", (P - Q) * W, diff)
    return kl, grad


def random_joint(n, rng):
    A = rng.random((n, n)) ** 3
    A = A + A.T
    np.fill_diagonal(A, 0.0)
    return A / A.sum()


def datasets():
    rng = np.random.default_rng(22)
    from sklearn.datasets import load_digits

    digits = load_digits().data[:150]
    blobs = np.vstack([rng.normal(c, 1.0, (30, 4)) for c in (0.0, 6.0, 12.0)])
    dup = rng.normal(size=(40, 3))
    dup[20:30] = dup[:10]  # ten duplicated points: zero distances off the diagonal
    return {
        "gaussian 80x5": rng.normal(size=(80, 5)),
        "three blobs": blobs,
        "digits[:150]": digits,
        "duplicates": dup,
        "tiny scale 1e-3": 1e-3 * rng.normal(size=(60, 3)),
        "large scale 1e3": 1e3 * rng.normal(size=(60, 3)),
    }


DATA = datasets()


# ---- rules -------------------------------------------------------------------------------


def test_no_library_tsne(solution_dir):
    forbid.assert_not_used(solution_dir, FORBIDDEN, why="day 22 is t-SNE written by hand")


# ---- conditional probabilities -------------------------------------------------------------


def conditional(solution, name, perplexity):
    X = DATA[name]
    D2 = sq_dists(X)
    P = expect.array(solution.conditional_probabilities(D2.copy(), perplexity),
                     "conditional_probabilities")
    n = len(X)
    assert P.shape == (n, n), (
        f"conditional_probabilities returned shape {P.shape}, expected {(n, n)}")
    assert np.all(np.isfinite(P)), (
        f"{name}: conditional_probabilities has NaN or inf at perplexity {perplexity} "
        "(exp of a large -beta*d² underflows: subtract each row's smallest distance first)")
    return D2, P


@pytest.mark.parametrize("name", list(DATA))
def test_rows_are_distributions_without_self(solution, name):
    _, P = conditional(solution, name, 10.0)
    assert np.all(P >= 0), f"{name}: negative probabilities"
    assert np.max(np.abs(np.diag(P))) <= 1e-12, (
        f"{name}: p_(i|i) must be 0 — a point is not its own neighbour (diagonal max "
        f"{np.max(np.abs(np.diag(P))):.3g})")
    expect.close(P.sum(axis=1), np.ones(len(P)), what=f"{name}: row sums of P", rtol=0,
                 atol=1e-9, oracle="1")


@pytest.mark.parametrize("perplexity", [2.0, 5.0, 30.0])
@pytest.mark.parametrize("name", list(DATA))
def test_per_point_perplexity_matches_target(solution, name, perplexity):
    _, P = conditional(solution, name, perplexity)
    with np.errstate(divide="ignore", invalid="ignore"):
        H = -np.sum(np.where(P > 0, P * np.log(np.where(P > 0, P, 1.0)), 0.0), axis=1)
    perp = np.exp(H)
    rel = np.abs(perp / perplexity - 1.0)
    i = int(np.argmax(rel))
    assert rel[i] <= PERPLEXITY_RTOL, (
        f"{name}: point {i} has perplexity {perp[i]:.4g} = exp(entropy in nats), target "
        f"{perplexity:g} (relative error {rel[i]:.2e} > {PERPLEXITY_RTOL:g}); search each "
        "point's beta until exp(H) = perplexity, i.e. H = log(perplexity) in nats "
        "(or log2 with entropy in bits — not mixed)")


@pytest.mark.parametrize("name", ["gaussian 80x5", "three blobs", "digits[:150]"])
def test_rows_are_gaussian_in_the_squared_distance(solution, name):
    D2, P = conditional(solution, name, 5.0)
    for i in range(len(P)):
        mask = (P[i] > 1e-10) & (np.arange(len(P)) != i)
        if mask.sum() < 3:
            continue
        d2, logp = D2[i, mask], np.log(P[i, mask])
        slope, icpt = np.polyfit(d2, logp, 1)
        resid = np.max(np.abs(logp - (slope * d2 + icpt)))
        assert slope < 0 and resid <= 1e-5 * max(1.0, np.ptp(logp)), (
            f"{name}: row {i} is not p_(j|i) ∝ exp(-beta_i·d²_ij): log p is not linear in the "
            f"squared distance (max residual {resid:.2e}); use squared Euclidean distances, "
            "not distances")


@pytest.mark.parametrize("name", ["three blobs", "digits[:150]", "duplicates"])
def test_conditional_matches_root_finding_oracle(solution, name):
    D2, P = conditional(solution, name, 15.0)
    expect.close(P, oracle_conditional(D2, 15.0), what=f"{name}: p_(j|i) at perplexity 15",
                 rtol=2e-2, atol=1e-6, oracle="an independent root-finder for each beta_i")


# ---- joint probabilities -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["three blobs", "digits[:150]"])
def test_joint_probabilities_are_symmetrised_conditionals(solution, name):
    X = DATA[name]
    n = len(X)
    P = expect.array(solution.joint_probabilities(X.copy(), 20.0), "joint_probabilities")
    assert P.shape == (n, n), f"joint_probabilities returned shape {P.shape}, expected {(n, n)}"
    assert abs(P.sum() - 1.0) <= 1e-9, (
        f"{name}: joint P must sum to 1 over all pairs, got {P.sum():.6g} "
        "(p_ij = (p_(j|i) + p_(i|j)) / (2n))")
    assert np.max(np.abs(P - P.T)) <= 1e-12 * P.max(), (
        f"{name}: joint P is not symmetric (symmetrise p_(j|i) and p_(i|j))")
    Pc = oracle_conditional(sq_dists(X), 20.0)
    expect.close(P, (Pc + Pc.T) / (2 * n), what=f"{name}: joint P at perplexity 20",
                 rtol=2e-2, atol=1e-8, oracle="(p_(j|i) + p_(i|j)) / (2n) from the oracle")


# ---- KL divergence and gradient ---------------------------------------------------------------


@pytest.mark.parametrize("n,dim", [(5, 2), (40, 2), (30, 3)])
def test_kl_and_gradient_match_closed_form(solution, n, dim):
    rng = np.random.default_rng(100 + n + dim)
    P, Y = random_joint(n, rng), rng.normal(scale=2.0, size=(n, dim))
    kl_want, grad_want = oracle_kl_and_gradient(P, Y)
    out = solution.kl_divergence(P.copy(), Y.copy())
    assert isinstance(out, tuple) and len(out) == 2, "kl_divergence must return (kl, grad)"
    kl, grad = out
    expect.close(kl, kl_want, what=f"KL(P||Q) for n={n}, dim={dim}", rtol=1e-6, atol=1e-12,
                 oracle="the closed form with Student-t q_ij = (1+|y_i-y_j|²)^-1 / Σ_(k≠l) "
                        "(1+|y_k-y_l|²)^-1")
    expect.close(grad, grad_want, what=f"gradient of KL for n={n}, dim={dim}", rtol=1e-6,
                 atol=1e-9 * np.abs(grad_want).max(),
                 oracle="4 Σ_j (p_ij − q_ij)(1+|y_i−y_j|²)^-1 (y_i − y_j)")


def test_gradient_is_the_derivative_of_kl(solution):
    rng = np.random.default_rng(7)
    P, Y = random_joint(12, rng), rng.normal(size=(12, 2))
    _, grad = solution.kl_divergence(P, Y)
    h = 1e-6
    num = np.zeros_like(Y)
    for idx in np.ndindex(*Y.shape):
        Yp, Ym = Y.copy(), Y.copy()
        Yp[idx] += h
        Ym[idx] -= h
        num[idx] = (solution.kl_divergence(P, Yp)[0] - solution.kl_divergence(P, Ym)[0]) / (2 * h)
    expect.close(grad, num, what="your gradient vs central differences of your KL", rtol=1e-4,
                 atol=1e-6, oracle="finite differences")


# ---- the embedding ---------------------------------------------------------------------------


@pytest.fixture
def no_library_tsne(monkeypatch):
    """Make scikit-learn's TSNE refuse to run, however the solution imported it."""
    from sklearn.manifold import TSNE

    def refuse(*_args, **_kwargs):
        raise forbid.ForbiddenCall("the spec forbids calling sklearn.manifold.TSNE: "
                                   "write t-SNE yourself")

    for name in ("fit", "fit_transform", "_fit"):
        monkeypatch.setattr(TSNE, name, refuse)


def run_tsne(solution, X, **kwargs):
    Y = expect.array(solution.tsne(X.copy(), **kwargs), "tsne")
    assert Y.shape == (len(X), kwargs.get("n_components", 2)), (
        f"tsne returned shape {Y.shape}, expected {(len(X), kwargs.get('n_components', 2))}")
    assert np.all(np.isfinite(Y)), "tsne returned NaN or inf (learning rate too large?)"
    return Y


def test_tsne_is_seeded_and_honours_n_components(solution, no_library_tsne):
    X = load_digits_subset(70)[0]
    a = run_tsne(solution, X, n_components=3, perplexity=10.0, random_state=5)
    b = run_tsne(solution, X, n_components=3, perplexity=10.0, random_state=5)
    assert np.array_equal(a, b), "tsne with the same random_state must return the same embedding"


def load_digits_subset(n):
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data[:n].astype(float), d.target[:n]


def test_tsne_embedding_of_digits_preserves_neighbourhoods(solution, record_metric,
                                                          no_library_tsne):
    from sklearn.manifold import trustworthiness
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    X, y = load_digits_subset(N_DIGITS)
    Y = run_tsne(solution, X, n_components=2, perplexity=30.0, random_state=0)
    trust = trustworthiness(X, Y, n_neighbors=10)
    acc = cross_val_score(KNeighborsClassifier(5), Y, y, cv=StratifiedKFold(5)).mean()
    record_metric("trustworthiness@10", trust, target=f">= {TRUST_MIN}",
                  verdict="PASS" if trust >= TRUST_MIN else "FAIL")
    record_metric("5-NN accuracy in 2-D", acc, target=f">= {KNN_MIN}",
                  verdict="PASS" if acc >= KNN_MIN else "FAIL")
    assert trust >= TRUST_MIN, (
        f"trustworthiness (k=10) of your 2-D embedding of digits[:{N_DIGITS}] is {trust:.3f} < "
        f"{TRUST_MIN} (PCA reaches about 0.86): the embedding does not keep neighbours together")
    assert acc >= KNN_MIN, (
        f"5-NN accuracy (5-fold CV) in your embedding is {acc:.3f} < {KNN_MIN}: "
        "the digit classes are not separated")


def test_the_arguments_are_left_as_they_were(solution):
    """The spec says the functions must not modify their arguments."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(12, 3))
    calls = [("conditional_probabilities", (sq_dists(X), 5.0)),
             ("joint_probabilities", (X, 5.0)),
             ("kl_divergence", (random_joint(12, rng), rng.normal(size=(12, 2))))]
    for name, args in calls:
        arrays = [a for a in args if isinstance(a, np.ndarray)]
        before = [a.copy() for a in arrays]
        getattr(solution, name)(*args)
        for i, (was, now) in enumerate(zip(before, arrays, strict=True)):
            assert np.array_equal(was, now), (
                f"{name} modified its argument {i + 1} in place: work on a copy")

"""Day 24 grader: autoencoders in PyTorch against PCA at the same code size.

Oracles: PCA by numpy's SVD (the optimal rank-k linear reconstruction, Eckart–Young), the
mean squared error recomputed here from the learner's model, and two properties: a linear
autoencoder cannot beat PCA on its training data, and it is an affine map.
"""

import copy
import functools

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from graders import expect, requires

torch = requires.package("torch")
# The first optimiser step imports torch._dynamo, which wraps torch.manual_seed; importing it
# here, before the learner's code runs, keeps that change out of the tamper guard's view.
requires.package("torch._dynamo")
# Tiny models and a 1400 x 64 SVD: one thread is fastest, and immune to a loaded machine
# (spinning BLAS threads cost seconds there).
torch.set_num_threads(1)
threadpool_limits(1)

K = 8
LINEAR_SLACK = 1.10  # the linear autoencoder must come within 10 % of PCA's error


def digits_split():
    from sklearn.datasets import load_digits

    X = (load_digits().data / 16.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(X))
    return X[order[:1400]], X[order[1400:]]


X_TRAIN, X_TEST = digits_split()


@functools.cache
def _pca_basis():
    mean = X_TRAIN.astype(np.float64).mean(axis=0)
    _, _, Vt = np.linalg.svd(X_TRAIN.astype(np.float64) - mean, full_matrices=False)
    return mean, Vt


def oracle_pca_error(X_test, k):
    """PCA fitted on X_TRAIN (its mean, its top-k right singular vectors) rebuilding X_test."""
    mean, Vt = _pca_basis()
    X_test = X_test.astype(np.float64)
    V = Vt[:k].T
    return float(np.mean((X_test - ((X_test - mean) @ V @ V.T + mean)) ** 2))


def mse(model, X):
    model.eval()
    with torch.no_grad():
        x = torch.as_tensor(X)
        return float(torch.mean((model.decode(model.encode(x)) - x) ** 2))


def build(solution, cls_name, k=K, seed=0):
    torch.manual_seed(seed)
    model = getattr(solution, cls_name)(X_TRAIN.shape[1], k)
    assert isinstance(model, torch.nn.Module), f"{cls_name} must be a torch.nn.Module"
    return model


def train(solution, model, X, seed=0):
    losses = solution.train_autoencoder(model, X.copy(), seed=seed)
    assert isinstance(losses, list) and all(isinstance(v, float) for v in losses), (
        "train_autoencoder must return a list of Python floats (loss.item()), got "
        f"{type(losses).__name__} of {type(losses[0]).__name__ if len(losses) else 'nothing'}")
    losses = expect.array(losses, "train_autoencoder's losses")
    assert losses.ndim == 1 and len(losses) >= 2 and np.all(np.isfinite(losses)), (
        "train_autoencoder must return the list of per-epoch mean training losses (finite)")
    return losses


@pytest.fixture(scope="module")
def linear(solution):
    model = build(solution, "LinearAutoencoder")
    return model, train(solution, model, X_TRAIN)


@pytest.fixture(scope="module")
def nonlinear(solution):
    model = build(solution, "Autoencoder")
    return model, train(solution, model, X_TRAIN)


# ---- PCA ---------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 4, 8, 20])
def test_pca_reconstruction_error_matches_svd(solution, k):
    got = solution.pca_reconstruction_error(X_TRAIN.copy(), X_TEST.copy(), k)
    expect.close(got, oracle_pca_error(X_TEST, k),
                 what=f"PCA test reconstruction error with k={k}", rtol=1e-4, atol=1e-9,
                 oracle="numpy SVD of the centred training data (centre the test data with "
                        "the TRAINING mean, project on the top-k directions, add the mean back)")


# ---- the models ------------------------------------------------------------------------------


@pytest.mark.parametrize("cls_name", ["LinearAutoencoder", "Autoencoder"])
def test_bottleneck_has_k_units(solution, cls_name):
    model = build(solution, cls_name, k=5)
    with torch.no_grad():
        z = model.encode(torch.as_tensor(X_TEST[:7]))
        out = model.decode(z)
        full = model(torch.as_tensor(X_TEST[:7]))
    assert tuple(z.shape) == (7, 5), (
        f"{cls_name}(64, k=5).encode(x) has shape {tuple(z.shape)}, expected (7, 5): the code "
        "must have exactly k units, or the comparison with PCA at the same k is meaningless")
    assert tuple(out.shape) == (7, 64), f"{cls_name}.decode(z) has shape {tuple(out.shape)}"
    for name, value in (("encode", z), ("decode", out), ("forward", full)):
        assert value.dtype == torch.float32, (
            f"{cls_name}.{name} returned a {value.dtype} tensor for float32 input; the spec "
            "asks for float32 tensors (keep the default float32 layers)")
    expect.close(full.numpy(), out.numpy(), what=f"{cls_name}.forward(x) vs decode(encode(x))",
                 rtol=1e-5, atol=1e-6, oracle="decode(encode(x))")


def test_linear_autoencoder_is_affine(solution):
    model = build(solution, "LinearAutoencoder", seed=3)
    a, b = torch.as_tensor(X_TEST[:20]), torch.as_tensor(X_TEST[20:40])
    with torch.no_grad():
        mid = model(0.3 * a + 0.7 * b)
        blend = 0.3 * model(a) + 0.7 * model(b)
    assert torch.allclose(mid, blend, atol=1e-5), (
        "LinearAutoencoder is not an affine map (f(0.3a + 0.7b) != 0.3 f(a) + 0.7 f(b)): "
        "no activation function in a linear autoencoder")


def test_reconstruction_error_is_the_mean_squared_error(solution, linear):
    model, _ = linear
    expect.close(solution.reconstruction_error(model, X_TEST.copy()), mse(model, X_TEST),
                 what="reconstruction_error(model, X_test)", rtol=1e-5, atol=1e-9,
                 oracle="mean over all n·d entries of (model(X) − X)²")


def test_training_is_seeded(solution):
    X = X_TRAIN[:200]
    model = build(solution, "Autoencoder", seed=1)
    twin, twin_start = copy.deepcopy(model), copy.deepcopy(model)
    a = train(solution, model, X, seed=5)
    b = train(solution, twin, X, seed=5)
    assert np.array_equal(a, b), (
        "two trainings of identical models with the same seed gave different losses: seed the "
        "shuffling from the seed argument (torch.manual_seed / a torch.Generator)")
    other = copy.deepcopy(twin_start)
    c = train(solution, other, X, seed=6)
    assert not np.array_equal(a, c), (
        "trainings with seeds 5 and 6 gave the same losses: the seed argument is not used "
        "(seed the shuffling from it)")


# ---- against PCA ---------------------------------------------------------------------------


def test_linear_autoencoder_reaches_pca_error(linear, record_metric):
    model, losses = linear
    pca_train, pca_test = oracle_pca_error(X_TRAIN, K), oracle_pca_error(X_TEST, K)
    ae_train, ae_test = mse(model, X_TRAIN), mse(model, X_TEST)
    record_metric("linear AE / PCA error (test)", ae_test / pca_test, unit="x",
                  target=f"<= {LINEAR_SLACK}")
    assert losses[-1] < losses[0], (
        f"the training loss did not decrease (first epoch {losses[0]:.4g}, last {losses[-1]:.4g}): "
        "check the optimiser step (zero_grad before backward) and the learning rate")
    assert ae_train >= pca_train * (1 - 1e-3), (
        f"the linear autoencoder beats PCA on its own training data ({ae_train:.5f} < "
        f"{pca_train:.5f}), which no rank-{K} affine map can: is there a non-linearity?")
    assert ae_test <= LINEAR_SLACK * pca_test, (
        f"linear autoencoder test error {ae_test:.5f} is {ae_test / pca_test:.2f}x PCA's "
        f"{pca_test:.5f} at k={K} (allowed {LINEAR_SLACK}x): it should converge to the PCA "
        "subspace — check the optimiser step (zero_grad before backward), learning rate, epochs")


def test_nonlinear_autoencoder_beats_pca(nonlinear, record_metric):
    model, losses = nonlinear
    pca_test = oracle_pca_error(X_TEST, K)
    ae_test = mse(model, X_TEST)
    record_metric("non-linear AE / PCA error (test)", ae_test / pca_test, unit="x",
                  target="<= 1")
    assert losses[-1] < losses[0], (
        f"the training loss did not decrease (first epoch {losses[0]:.4g}, last {losses[-1]:.4g}): "
        "check the optimiser step (zero_grad before backward) and the learning rate")
    assert ae_test <= pca_test, (
        f"non-linear autoencoder test error {ae_test:.5f} > PCA's {pca_test:.5f} at k={K}: "
        "with non-linear layers and training to convergence it should do better")

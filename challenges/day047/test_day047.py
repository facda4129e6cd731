"""Day 47 grader: VAE pieces against closed forms and torch (KL of Gaussians, Bernoulli
likelihood, the reparameterisation's moments and gradients), then a 2-D VAE trained on the
8x8 digits: held-out ELBO, a latent space that separates the digits, and the latent map."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from graders import expect

# Small models: one thread is as fast as two, and far faster on a busy machine (no spinning).
torch.set_num_threads(1)
# The first optimiser step imports torch._dynamo, which wraps torch.manual_seed; import it
# before the grade starts so that wrapping is not mistaken for the solution's doing.
import torch._dynamo  # noqa: E402, F401

TOL = dict(rtol=1e-5, atol=1e-5)
# Held-out negative ELBO, nats per image: at least this far below the best model that ignores
# z (independent pixels at the training mean, about 27.0; a good 2-D VAE reaches about 24.5).
MIN_GAIN = 1.0
MIN_KNN_ACCURACY = 0.55  # 5-NN on the 2-D latent means; a collapsed posterior gives ~0.1


def _data():
    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float32)
    X_tr, X_te, y_tr, y_te = train_test_split(X, digits.target, test_size=0.25,
                                              random_state=47, stratify=digits.target)
    return torch.from_numpy(X_tr), torch.from_numpy(X_te), y_tr, y_te


def _gaussians(seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(6, 3, generator=g) * 2, torch.randn(6, 3, generator=g) * 1.5


def test_kl_matches_closed_form(solution):
    mu, logvar = _gaussians(1)
    want = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, torch.exp(0.5 * logvar)),
        torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(-1)
    expect.close(solution.gaussian_kl(mu, logvar), want,
                 what="gaussian_kl(mu, logvar), one value per row",
                 oracle="torch.distributions.kl_divergence", **TOL)
    zero = solution.gaussian_kl(torch.zeros(2, 4), torch.zeros(2, 4))
    expect.close(zero, torch.zeros(2), what="gaussian_kl of N(0, I) against itself",
                 oracle="0", **TOL)


def test_negative_elbo_terms(solution):
    g = torch.Generator().manual_seed(2)
    x = torch.rand(5, 64, generator=g)
    logits = torch.randn(5, 64, generator=g) * 3
    mu, logvar = _gaussians(3)
    result = solution.negative_elbo(x, logits, mu, logvar)
    assert isinstance(result, tuple) and len(result) == 2, "negative_elbo must return (recon, kl)"
    recon, kl = result
    want = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)
    expect.close(recon, want, what="the reconstruction term (Bernoulli NLL summed over pixels)",
                 oracle="binary_cross_entropy_with_logits summed per example", **TOL)
    expect.close(kl, solution.gaussian_kl(mu, logvar), what="the KL term of negative_elbo",
                 oracle="your gaussian_kl", **TOL)


def test_reparameterisation_moments_and_gradients(solution):
    torch.manual_seed(4)
    mu = torch.tensor([[0.0, 3.0], [-2.0, 0.5]]).repeat(20000, 1).requires_grad_()
    logvar = torch.tensor([[0.0, 1.0], [-2.0, 2.0]]).repeat(20000, 1).requires_grad_()
    z = solution.reparameterize(mu, logvar)
    assert z.shape == mu.shape, (
        f"reparameterize returned shape {tuple(z.shape)}, expected {tuple(mu.shape)}")
    samples = z.detach().reshape(20000, 2, 2)
    std = torch.exp(0.5 * torch.tensor([[0.0, 1.0], [-2.0, 2.0]]))
    expect.close(samples.mean(0), mu.detach()[:2], what="the mean of the samples",
                 oracle="mu", rtol=0, atol=float(5 * std.max() / 20000 ** 0.5))
    expect.close(samples.std(0), std, what="the standard deviation of the samples",
                 oracle="exp(0.5 * logvar)", rtol=0.04, atol=0)
    z.sum().backward()
    assert (mu.grad is not None and logvar.grad is not None
            and mu.grad.abs().sum() > 0 and logvar.grad.abs().sum() > 0), (
        "no gradient reaches mu or logvar: sample eps and compute mu + std * eps with torch ops")
    expect.close(mu.grad, torch.ones_like(mu), what="d z / d mu", oracle="1", **TOL)
    eps = (samples - mu.detach()[:2]) / std  # the noise the samples imply
    expect.close(logvar.grad.reshape(20000, 2, 2), 0.5 * std * eps, what="d z / d logvar",
                 oracle="0.5 * std * eps", rtol=1e-4, atol=1e-4)


def test_reparameterisation_draws_fresh_noise_each_call(solution):
    torch.manual_seed(5)
    mu, logvar = torch.zeros(3, 2), torch.zeros(3, 2)
    first, second = solution.reparameterize(mu, logvar), solution.reparameterize(mu, logvar)
    assert not torch.equal(first, second), (
        "two calls of reparameterize with the same mu and logvar gave the same z: draw a new "
        "eps ~ N(0, I) on every call (torch.randn_like)")


@pytest.fixture(scope="module")
def trained(solution):
    X_tr, X_te, y_tr, y_te = _data()
    torch.manual_seed(0)
    model = solution.train_vae(X_tr.clone(), seed=0)
    model.eval()
    return model, X_tr, X_te, y_tr, y_te


def _encode(model, X):
    with torch.no_grad():
        mu, logvar = model.encode(X)
    assert mu.shape == (len(X), 2) and logvar.shape == (len(X), 2), (
        "encode must give mu and logvar of shape (N, 2); "
        f"got {tuple(mu.shape)} and {tuple(logvar.shape)}")
    return mu, logvar


def test_held_out_elbo(trained, record_metric):
    model, X_tr, X_te, *_ = trained
    mu, logvar = _encode(model, X_te)
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():  # the grader's own estimate: 20 samples of z per image
        recon = torch.stack([
            F.binary_cross_entropy_with_logits(
                model.decode(mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=g)),
                X_te, reduction="none").sum(-1)
            for _ in range(20)]).mean(0)
    kl = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, torch.exp(0.5 * logvar)),
        torch.distributions.Normal(0.0, 1.0)).sum(-1)
    nelbo = (recon + kl).mean().item()
    mean_kl = kl.mean().item()
    p = X_tr.mean(0).clamp(1e-4, 1 - 1e-4)  # best model that ignores z
    baseline = F.binary_cross_entropy(p.expand_as(X_te), X_te, reduction="none").sum(-1).mean()
    gain = float(baseline) - nelbo
    record_metric("test_negative_elbo", nelbo, unit="nats")
    record_metric("test_kl", mean_kl, unit="nats")
    record_metric("pixel_independent_baseline", float(baseline), unit="nats")
    record_metric("gain_over_baseline", gain, unit="nats", target=f">= {MIN_GAIN}")
    assert mean_kl > 1.0, (
        f"the KL term is {mean_kl:.3f} nats: the posterior has collapsed onto the prior and z "
        "carries no information (is the reconstruction summed over the 64 pixels?)")
    assert gain >= MIN_GAIN, (
        f"held-out negative ELBO {nelbo:.2f} nats is only {gain:.2f} below the "
        f"{float(baseline):.2f} of a model that ignores z; at least {MIN_GAIN} is required")


def test_latent_space_separates_digits(trained, record_metric):
    model, X_tr, X_te, y_tr, y_te = trained
    z_tr, _ = _encode(model, X_tr)
    z_te, _ = _encode(model, X_te)
    knn = KNeighborsClassifier(5).fit(z_tr.numpy(), y_tr)
    accuracy = knn.score(z_te.numpy(), y_te)
    record_metric("latent_5nn_accuracy", accuracy, target=f">= {MIN_KNN_ACCURACY}")
    assert accuracy >= MIN_KNN_ACCURACY, (
        f"5-nearest-neighbour accuracy on the 2-D latent means is {accuracy:.3f} < "
        f"{MIN_KNN_ACCURACY}: the latent map does not group the digits")


def test_latent_grid(solution, trained):
    model = trained[0]
    raw = solution.latent_grid(model, n=5, span=1.5)
    assert isinstance(raw, np.ndarray), (
        f"latent_grid returned a {type(raw).__name__}; the spec asks for a numpy array")
    grid = np.asarray(raw, dtype=float)
    assert grid.shape == (40, 40), (
        f"latent_grid(model, n=5) has shape {grid.shape}, expected (40, 40)")
    values = torch.linspace(-1.5, 1.5, 5)
    with torch.no_grad():
        for i, j in [(0, 0), (0, 4), (4, 0), (2, 3), (4, 4)]:
            z = torch.tensor([[values[j], values[4 - i]]])
            want = torch.sigmoid(model.decode(z)).reshape(8, 8).numpy()
            expect.close(grid[8 * i:8 * i + 8, 8 * j:8 * j + 8], want,
                         what=f"tile ({i}, {j}) of latent_grid (z = {z[0].tolist()})",
                         oracle="sigmoid(model.decode(z))", rtol=1e-4, atol=1e-4)

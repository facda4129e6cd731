"""Day 47: a variational autoencoder with a 2-D latent space on the 8x8 digits."""

from torch import nn


def gaussian_kl(mu, logvar):
    """KL( N(mu, diag(exp(logvar))) || N(0, I) ) for each row: (B, d) inputs -> (B,)."""
    # TODO: the closed form, summed over the latent axis
    raise NotImplementedError("gaussian_kl")


def reparameterize(mu, logvar):
    """A sample z ~ N(mu, diag(exp(logvar))) that gradients flow through: (B, d)."""
    # TODO
    raise NotImplementedError("reparameterize")


def negative_elbo(x, x_logits, mu, logvar):
    """(recon, kl), each (B,): the Bernoulli negative log-likelihood of x (B, 64) under the
    decoder's logits, summed over pixels, and gaussian_kl(mu, logvar)."""
    # TODO
    raise NotImplementedError("negative_elbo")


class VAE(nn.Module):
    """Encoder x (B, 64) -> (mu, logvar) each (B, 2); decoder z (B, 2) -> logits (B, 64)."""

    def __init__(self, input_dim=64, latent_dim=2, hidden=128):
        super().__init__()
        # TODO
        raise NotImplementedError("VAE")

    def encode(self, x):
        raise NotImplementedError("VAE.encode")

    def decode(self, z):
        raise NotImplementedError("VAE.decode")

    def forward(self, x):
        """Returns (x_logits, mu, logvar), with z drawn by reparameterize."""
        raise NotImplementedError("VAE.forward")


def train_vae(X, seed=0):
    """Train a VAE (latent_dim=2) on X, float32 (N, 64) in [0, 1]; return it."""
    # TODO: minimise the mean over the batch of recon + kl with Adam
    raise NotImplementedError("train_vae")


def latent_grid(model, n=10, span=2.0):
    """The 2-D latent map: a numpy array (8n, 8n) of pixel probabilities where tile (i, j)
    (rows 8i..8i+7, columns 8j..8j+7) decodes z = (xs[j], ys[i]),
    xs = linspace(-span, span, n), ys = linspace(span, -span, n)."""
    # TODO
    raise NotImplementedError("latent_grid")

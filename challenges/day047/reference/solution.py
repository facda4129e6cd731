"""Day 47 reference: a VAE with a 2-D latent space on the 8x8 digits."""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def gaussian_kl(mu, logvar):
    """KL( N(mu, diag(exp(logvar))) || N(0, I) ), summed over the latent axis: shape (B,)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


def reparameterize(mu, logvar):
    """z = mu + sigma * eps with eps ~ N(0, I): random, yet differentiable in mu and logvar."""
    std = torch.exp(0.5 * logvar)
    return mu + std * torch.randn_like(std)


def negative_elbo(x, x_logits, mu, logvar):
    """(reconstruction, kl), each (B,): Bernoulli negative log-likelihood summed over pixels,
    and the KL term. Their sum is the negative ELBO of each example."""
    recon = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").sum(dim=-1)
    return recon, gaussian_kl(mu, logvar)


class VAE(nn.Module):
    def __init__(self, input_dim=64, latent_dim=2, hidden=128):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(nn.Linear(input_dim, hidden), nn.ReLU(),
                                     nn.Linear(hidden, hidden), nn.ReLU())
        self.to_mu = nn.Linear(hidden, latent_dim)
        self.to_logvar = nn.Linear(hidden, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(),
                                     nn.Linear(hidden, hidden), nn.ReLU(),
                                     nn.Linear(hidden, input_dim))

    def encode(self, x):
        h = self.encoder(x)
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z):
        return self.decoder(z)  # logits of the 64 pixel intensities

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar)), mu, logvar


def train_vae(X, seed=0, epochs=40):
    """X: float32 (N, 64) in [0, 1]. Minimises the mean negative ELBO with Adam."""
    torch.manual_seed(seed)
    model = VAE()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _epoch in range(epochs):
        for idx in torch.randperm(len(X)).split(64):
            logits, mu, logvar = model(X[idx])
            recon, kl = negative_elbo(X[idx], logits, mu, logvar)
            loss = (recon + kl).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return model


@torch.no_grad()
def latent_grid(model, n=10, span=2.0):
    """An (8n, 8n) image: tile (i, j) decodes z = (xs[j], ys[i]), xs = linspace(-span, span),
    ys = linspace(span, -span) (so +z2 is up), as pixel probabilities."""
    xs, ys = torch.linspace(-span, span, n), torch.linspace(span, -span, n)
    z = torch.stack(torch.meshgrid(ys, xs, indexing="ij")[::-1], dim=-1).reshape(-1, 2)
    tiles = torch.sigmoid(model.decode(z)).reshape(n, n, 8, 8)
    return tiles.permute(0, 2, 1, 3).reshape(8 * n, 8 * n).numpy().astype(np.float64)

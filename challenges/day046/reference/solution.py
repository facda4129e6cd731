"""Day 46 reference: a small DCGAN for the 8x8 digits."""

import torch
from torch import nn


class Generator(nn.Module):
    """z (B, latent_dim) -> images (B, 1, 8, 8) in [-1, 1]: project to 2x2, two strided
    transposed convolutions up to 8x8, tanh."""

    def __init__(self, latent_dim=16):
        super().__init__()
        self.latent_dim = latent_dim
        self.project = nn.Sequential(nn.Linear(latent_dim, 64 * 2 * 2), nn.BatchNorm1d(256),
                                     nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1), nn.Tanh(),
        )

    def forward(self, z):
        return self.net(self.project(z).view(-1, 64, 2, 2))


class Discriminator(nn.Module):
    """images (B, 1, 8, 8) -> one logit each (B,): strided convolutions, LeakyReLU."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.BatchNorm2d(64), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(64 * 2 * 2, 1),
        )

    def forward(self, x):
        return self.net(x).squeeze(1)


def train_gan(images, seed=0, steps=450, batch=64):
    """images: float32 (N, 1, 8, 8) in [-1, 1]. Returns (generator, discriminator, history)."""
    torch.manual_seed(seed)
    G, D = Generator(), Discriminator()
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    ones, zeros = torch.ones(batch), torch.zeros(batch)
    history = {"d_loss": [], "g_loss": []}
    for _step in range(steps):
        real = images[torch.randint(0, len(images), (batch,))]
        fake = G(torch.randn(batch, G.latent_dim))
        # discriminator: real -> 1, fake -> 0 (fake detached: this step must not move G)
        d_loss = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        # generator: the non-saturating loss, make D call the fakes real
        g_loss = bce(D(fake), ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        history["d_loss"].append(d_loss.item())
        history["g_loss"].append(g_loss.item())
    G.eval()
    D.eval()
    return G, D, history

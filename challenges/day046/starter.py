"""Day 46: a DCGAN that generates 8x8 digits."""

from torch import nn


class Generator(nn.Module):
    """z (B, latent_dim) -> images (B, 1, 8, 8) in [-1, 1], with transposed convolutions."""

    def __init__(self, latent_dim=16):
        super().__init__()
        self.latent_dim = latent_dim
        # TODO: Linear to (C, 2, 2), ConvTranspose2d up to 4x4 then 8x8, BatchNorm, ReLU, Tanh
        raise NotImplementedError("Generator")

    def forward(self, z):
        raise NotImplementedError("Generator.forward")


class Discriminator(nn.Module):
    """images (B, 1, 8, 8) -> logits (B,), with strided convolutions and LeakyReLU."""

    def __init__(self):
        super().__init__()
        # TODO
        raise NotImplementedError("Discriminator")

    def forward(self, x):
        raise NotImplementedError("Discriminator.forward")


def train_gan(images, seed=0):
    """Train on images, float32 (N, 1, 8, 8) in [-1, 1].

    Returns (generator, discriminator, history) where history = {"d_loss": [...],
    "g_loss": [...]}, one float per training step.
    """
    # TODO: alternate a discriminator step (real -> 1, G(z).detach() -> 0) and a generator
    #       step (D(G(z)) -> 1) with Adam(lr=2e-3, betas=(0.5, 0.999))
    raise NotImplementedError("train_gan")

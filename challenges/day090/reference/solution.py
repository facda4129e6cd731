"""Day 90: SimCLR — augmentations, the NT-Xent loss and a short contrastive training run."""

import torch
import torch.nn.functional as F
from torch import nn


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n = x.shape[0]

    def uniform(low, high, *shape):
        return torch.rand(n, *shape, generator=generator) * (high - low) + low

    # random resized crop + horizontal flip in one affine resampling per image
    scale = uniform(0.6, 1.0)
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = scale * flip
    theta[:, 1, 1] = scale
    theta[:, 0, 2] = uniform(-1.0, 1.0) * (1 - scale)  # the crop stays inside the image
    theta[:, 1, 2] = uniform(-1.0, 1.0) * (1 - scale)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    # colour: a random channel order, then brightness and contrast jitter
    perm = torch.argsort(torch.rand(n, 3, generator=generator), dim=1)
    out = torch.gather(out, 1, perm[:, :, None, None].expand_as(out))
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    out = (out - mean) * uniform(0.6, 1.4, 1, 1, 1) + mean + uniform(-0.2, 0.2, 1, 1, 1)
    return out.clamp(0.0, 1.0)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    if z1.ndim != 2 or z1.shape != z2.shape:
        raise ValueError(f"z1 and z2 must be (N, D) of one shape, got {tuple(z1.shape)} and "
                         f"{tuple(z2.shape)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / temperature
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    sim = sim.masked_fill(self_mask, float("-inf"))  # i is not its own negative
    positive = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(sim, positive)  # mean over all 2N anchors: both directions


def train_simclr(encoder: nn.Module, head: nn.Module, images: torch.Tensor, *, steps: int,
                 batch_size: int, temperature: float, lr: float, seed: int) -> list[float]:
    g = torch.Generator().manual_seed(seed)
    params = list(encoder.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=lr)
    encoder.train()
    head.train()
    losses = []
    for _ in range(steps):
        x = images[torch.randint(0, images.shape[0], (batch_size,), generator=g)]
        loss = nt_xent(head(encoder(augment(x, g))), head(encoder(augment(x, g))), temperature)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses

"""The small seeded models of the profiling and batch-size days (61, 62).

    from graders.data.profile_nets import conv_net, conv_input, mlp_net, mlp_input
    model, x = conv_net(), conv_input()    # (32, 3, 32, 32) -> (32, 10); eval mode
    model, x = mlp_net(), mlp_input(64)    # (64, 256) -> (64, 10); eval mode

conv_net is shaped so that its profile has two heavy operators with well separated shares
of the self CPU time on one thread (the dense layer's matrix product about 70 %, the
convolution about 25 %) and a tail of cheap ones: the top of its table is stable on a busy
machine. mlp_net is small enough that per-call overhead dominates at batch 1 and compute
at large batches: its throughput grows with the batch size, then flattens. Weights are
random but seeded, not trained: the days measure time, not accuracy.
"""

from __future__ import annotations

import torch
from torch import nn

SEED = 0


def conv_net() -> nn.Sequential:
    """conv (3→32, 5×5, stride 2, pad 2) → ReLU → flatten → fc (8192→192) → ReLU →
    fc (192→10), in eval mode."""
    torch.manual_seed(SEED)
    return nn.Sequential(
        nn.Conv2d(3, 32, 5, stride=2, padding=2), nn.ReLU(), nn.Flatten(),
        nn.Linear(32 * 16 * 16, 192), nn.ReLU(), nn.Linear(192, 10),
    ).eval()


def conv_input(batch: int = 32) -> torch.Tensor:
    """(batch, 3, 32, 32) float32 images, standard normal, seeded."""
    return torch.randn(batch, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def mlp_net() -> nn.Sequential:
    """fc (256→512) → ReLU → fc (512→512) → ReLU → fc (512→10), in eval mode."""
    torch.manual_seed(SEED)
    return nn.Sequential(
        nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10),
    ).eval()


def mlp_input(batch: int) -> torch.Tensor:
    """(batch, 256) float32, standard normal, seeded (the same rows for every batch size)."""
    return torch.randn(batch, 256, generator=torch.Generator().manual_seed(2))

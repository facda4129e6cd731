"""Day 70: layer freezing and automatic mixed precision training."""

import torch
from torch import nn


def freeze(model: nn.Module, prefixes: list[str]) -> list[str]:
    """requires_grad=False on every parameter inside a module named in `prefixes`; the
    names of the frozen parameters, sorted."""
    # TODO: a parameter is inside module `p` when its name is p or starts with p + "."
    # TODO: mark those with requires_grad_(False); return their names, sorted
    raise NotImplementedError("freeze")


def train_amp(model: nn.Module, x: torch.Tensor, y: torch.Tensor, frozen: list[str] = (),
              epochs: int = 5, lr: float = 3e-3, batch_size: int = 64,
              seed: int = 0) -> tuple[torch.optim.Optimizer, list[float]]:
    """Fine-tune `model` on (x, y) with the modules in `frozen` frozen, under autocast
    (bfloat16 on the CPU; float16 with a GradScaler on CUDA). Returns the optimiser and the
    mean training loss of each epoch."""
    # TODO: freeze the modules in `frozen`; AdamW (weight_decay=0.01) over the trainable
    #       parameters only
    # TODO: each epoch: training mode, but the frozen modules in eval mode (BatchNorm
    #       statistics); the batch order from a generator seeded with `seed`
    # TODO: each batch: forward and loss under torch.autocast, backward and step outside it
    # TODO: return the optimiser and the per-epoch mean losses; leave the model in eval mode
    raise NotImplementedError("train_amp")

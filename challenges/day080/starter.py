"""Day 80: data-parallel training with DistributedDataParallel (gloo, one process per rank)."""

import torch
from torch import nn


def shard(x: torch.Tensor, y: torch.Tensor, rank: int,
          world_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rank `rank`'s contiguous block of n / world_size rows of x and y (rank 0 first).
    Raises ValueError when n does not divide evenly. Does not modify x or y."""
    # TODO: check that the rows split evenly, then slice this rank's block
    raise NotImplementedError("shard")


def train_ddp(model: nn.Module, x: torch.Tensor, y: torch.Tensor, rank: int, world_size: int,
              port: int, steps: int = 20, lr: float = 0.1) -> list[list[torch.Tensor]]:
    """Run on every rank: join the gloo process group at tcp://127.0.0.1:{port}, wrap `model`
    in DistributedDataParallel, train it with SGD(lr) for `steps` full-shard steps of
    mean-squared error, destroy the process group. Returns, per step, a copy of every
    parameter's .grad (in model.parameters() order) taken after backward."""
    # TODO: torch.distributed.init_process_group("gloo", init_method=..., rank=..., world_size=...)
    # TODO: wrap the model in DistributedDataParallel (it broadcasts rank 0's weights and
    #       averages gradients across ranks during backward)
    # TODO: train on this rank's shard only; record the gradients of each step
    # TODO: destroy the process group before returning, even when something fails
    raise NotImplementedError("train_ddp")

"""Day 80 reference: data-parallel training with DistributedDataParallel over gloo — each
rank trains on its shard, DDP averages the gradients, and the result is full-batch SGD."""

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP


def init_distributed(rank: int, world_size: int, port: int) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world_size)


def shard(x: torch.Tensor, y: torch.Tensor, rank: int,
          world_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    n = x.shape[0]
    if n % world_size:
        raise ValueError(f"{n} rows do not split evenly over {world_size} ranks")
    size = n // world_size
    return x[rank * size:(rank + 1) * size], y[rank * size:(rank + 1) * size]


def train_ddp(model: nn.Module, x: torch.Tensor, y: torch.Tensor, rank: int, world_size: int,
              port: int, steps: int = 20, lr: float = 0.1) -> list[list[torch.Tensor]]:
    init_distributed(rank, world_size, port)
    try:
        ddp = DDP(model)  # broadcasts rank 0's weights, then all-reduces (averages) gradients
        xs, ys = shard(x, y, rank, world_size)
        opt = torch.optim.SGD(ddp.parameters(), lr=lr)
        grads = []
        for _ in range(steps):
            opt.zero_grad()
            nn.functional.mse_loss(ddp(xs), ys).backward()
            grads.append([p.grad.detach().clone() for p in model.parameters()])
            opt.step()
        return grads
    finally:
        dist.destroy_process_group()

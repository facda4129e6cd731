"""Day 81 reference: GPipe-style pipeline parallelism — two stages in two processes,
micro-batches flowing forward through send/recv, gradients flowing back the same way."""

import torch
import torch.distributed as dist
from torch import nn


def bubble_fraction(p: int, m: int) -> float:
    if p < 1 or m < 1:
        raise ValueError("a pipeline needs at least one stage and one micro-batch")
    return (p - 1) / (m + p - 1)


def gpipe_schedule(p: int, m: int) -> list[list[int | None]]:
    if p < 1 or m < 1:
        raise ValueError("a pipeline needs at least one stage and one micro-batch")
    # stage s runs micro-batch j at tick s + j: it waits s ticks for the first activation
    return [[t - s if 0 <= t - s < m else None for s in range(p)] for t in range(m + p - 1)]


def split_micro(t: torch.Tensor, n_micro: int) -> list[torch.Tensor]:
    if n_micro < 1 or t.shape[0] % n_micro:
        raise ValueError(f"{t.shape[0]} rows do not split into {n_micro} equal micro-batches")
    return list(t.split(t.shape[0] // n_micro))


def gpipe_step(stage: nn.Module, rank: int, port: int, x: torch.Tensor, y: torch.Tensor,
               n_micro: int, width: int) -> tuple[torch.Tensor, torch.Tensor] | None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=2)
    try:
        xs, ys = split_micro(x, n_micro), split_micro(y, n_micro)
        rows = xs[0].shape[0]
        if rank == 0:
            acts = []
            for xm in xs:  # all forwards first (GPipe)...
                a = stage(xm)
                dist.send(a.detach(), dst=1)
                acts.append(a)
            for a in reversed(acts):  # ...then all backwards, last micro-batch first
                g = torch.empty(rows, width)
                dist.recv(g, src=1)
                a.backward(g)
            return None
        ins, outs, losses = [], [], []
        for ym in ys:
            a = torch.empty(rows, width)
            dist.recv(a, src=0)
            a.requires_grad_()
            out = stage(a)
            # each micro-batch's mean, divided by m: together the full batch's mean
            losses.append(nn.functional.mse_loss(out, ym) / n_micro)
            ins.append(a)
            outs.append(out.detach())
        for a, loss in zip(reversed(ins), reversed(losses), strict=True):
            loss.backward()
            dist.send(a.grad, dst=0)
        return torch.cat(outs), torch.stack(losses).sum().detach()
    finally:
        dist.destroy_process_group()

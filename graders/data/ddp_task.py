"""The data-parallel training task of day 80: a small regression MLP, its data, the
single-process full-batch oracle, and the body each spawned rank runs
(`graders.data.spawn_ranks.run("graders.data.ddp_task:rank_body", 2, folder)`)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

N_ROWS, N_FEATURES, HIDDEN = 64, 8, 16
STEPS, LR = 20, 0.1
DATA_SEED = 80


def make_model(seed: int) -> nn.Module:
    """The MLP every rank builds, its weights drawn after torch.manual_seed(seed)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(N_FEATURES, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, 1))


def make_data() -> tuple[torch.Tensor, torch.Tensor]:
    """x (64, 8) and y (64, 1), float32: a noisy nonlinear target."""
    g = torch.Generator().manual_seed(DATA_SEED)
    x = torch.randn(N_ROWS, N_FEATURES, generator=g)
    w = torch.randn(N_FEATURES, 1, generator=g)
    y = torch.sin(x @ w) + 0.1 * torch.randn(N_ROWS, 1, generator=g)
    return x, y


def train_full_batch(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int = STEPS,
                     lr: float = LR) -> list[list[torch.Tensor]]:
    """The oracle: plain SGD on the whole batch in one process; the gradients of each step."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    grads = []
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        grads.append([p.grad.detach().clone() for p in model.parameters()])
        opt.step()
    return grads


def rank_body(rank: int, world_size: int, port: int, solution: Any, payload: Any) -> dict:
    """Build the model with seed `rank` (ranks start apart on purpose), record the inputs it
    sees, run the learner's train_ddp, and report everything as plain lists."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP

    model = make_model(seed=rank)
    x, y = make_data()
    seen: list[list] = []
    model.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach().tolist()))
    # count the DDP wrappers built around `model` (a hand-written all-reduce is not DDP);
    # patching the class reaches it however the solution imported it
    wraps: list[bool] = []
    ddp_init = DDP.__init__

    def counting_init(self, module, *args, **kwargs):
        wraps.append(module is model)
        ddp_init(self, module, *args, **kwargs)

    DDP.__init__ = counting_init
    try:
        grads = solution.train_ddp(model, x.clone(), y.clone(), rank, world_size, port,
                                   steps=STEPS, lr=LR)
    finally:
        DDP.__init__ = ddp_init
    return {
        "ddp_wraps": sum(wraps),
        "grads": [[g.detach().tolist() for g in step] for step in grads],
        "weights": [p.detach().tolist() for p in model.parameters()],
        "seen": seen[:1],
        "forwards": len(seen),
        "still_initialized": dist.is_available() and dist.is_initialized(),
    }

"""The two-stage pipeline task of day 81: a small MLP cut into two stages, its data, the
sequential oracle, and the body each spawned rank runs
(`graders.data.spawn_ranks.run("graders.data.pipeline_task:rank_body", 2, folder, n_micro)`)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

BATCH, IN, WIDTH, OUT = 32, 8, 16, 4
MODEL_SEED, DATA_SEED = 81, 810


def make_stages() -> tuple[nn.Sequential, nn.Sequential]:
    """Stage 0 (8 → 16 → 16) and stage 1 (16 → 16 → 4), weights drawn after seed 81."""
    torch.manual_seed(MODEL_SEED)
    stage0 = nn.Sequential(nn.Linear(IN, WIDTH), nn.Tanh(), nn.Linear(WIDTH, WIDTH), nn.Tanh())
    stage1 = nn.Sequential(nn.Linear(WIDTH, WIDTH), nn.Tanh(), nn.Linear(WIDTH, OUT))
    return stage0, stage1


def make_data() -> tuple[torch.Tensor, torch.Tensor]:
    """x (32, 8) and y (32, 4), float32."""
    g = torch.Generator().manual_seed(DATA_SEED)
    return torch.randn(BATCH, IN, generator=g), torch.randn(BATCH, OUT, generator=g)


def sequential_step() -> dict:
    """The oracle: both stages in one process on the whole batch, mean-squared error."""
    stage0, stage1 = make_stages()
    x, y = make_data()
    out = stage1(stage0(x))
    loss = nn.functional.mse_loss(out, y)
    loss.backward()
    return {"out": out.detach(), "loss": loss.item(),
            "grads": [[p.grad for p in s.parameters()] for s in (stage0, stage1)]}


def rank_body(rank: int, world_size: int, port: int, solution: Any, n_micro: int) -> dict:
    """Keep this rank's stage, record the order of its forward and backward passes per
    micro-batch, run the learner's gpipe_step, and report everything as plain lists."""
    import torch.distributed as dist

    stage = make_stages()[rank]
    x, y = make_data()
    events: list[list] = []

    def on_forward(_m, args, output):
        events.append(["F", int(args[0].shape[0])])
        if output.requires_grad:
            output.register_hook(lambda g: events.append(["B", int(g.shape[0])]))

    stage.register_forward_hook(on_forward)
    before = [p.detach().clone() for p in stage.parameters()]
    result = solution.gpipe_step(stage, rank, port, x.clone(), y.clone(), n_micro, WIDTH)
    report = {
        "events": events,
        "weights_changed": any(not torch.equal(p.detach(), b)
                               for p, b in zip(stage.parameters(), before, strict=True)),
        "grads": [None if p.grad is None else p.grad.tolist() for p in stage.parameters()],
        "still_initialized": dist.is_available() and dist.is_initialized(),
        "result": None,
    }
    if result is not None:
        out, loss = result
        report["result"] = [out.detach().tolist(), float(loss)]
        report["loss_kind"] = (f"a {loss.dim()}-d tensor" if isinstance(loss, torch.Tensor)
                               else type(loss).__name__)
    return report

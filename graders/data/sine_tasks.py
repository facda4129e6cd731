"""Sine-regression tasks for meta-learning (Finn et al., 2017, section 5.1): each task is
y = A·sin(x − φ) with its own amplitude A ∈ [0.1, 5] and phase φ ∈ [0, π], x ∈ [−5, 5];
a learner sees K support points of a task and is scored on its query points.

    import torch
    from graders.data.sine_tasks import SineMLP, sample_tasks, pretrain_jointly
    g = torch.Generator().manual_seed(0)
    tasks = sample_tasks(8, generator=g)       # list of Task, drawn only from `g`
    x_s, y_s, x_q, y_q = tasks[0][:4]          # each (K, 1) float32

`SineMLP` is the paper's regressor (1 → 40 → 40 → 1, ReLU). `pretrain_jointly` trains one
on the pooled points of many tasks — the "pretrained" baseline MAML is compared with.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

AMPLITUDE = (0.1, 5.0)
PHASE = (0.0, math.pi)
X_RANGE = (-5.0, 5.0)


class Task(NamedTuple):
    x_support: torch.Tensor  # (k_shot, 1) float32
    y_support: torch.Tensor
    x_query: torch.Tensor  # (k_query, 1) float32
    y_query: torch.Tensor
    amplitude: float
    phase: float


def _uniform(lo: float, hi: float, shape, generator: torch.Generator) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(shape, generator=generator)


def sample_tasks(n: int, k_shot: int = 10, k_query: int = 10,
                 generator: torch.Generator | None = None) -> list[Task]:
    """`n` tasks, each with `k_shot` support and `k_query` query points; every random number
    comes from `generator` (a fresh one seeded 0 when None), never from the global RNG."""
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    tasks = []
    for _ in range(n):
        a = float(_uniform(*AMPLITUDE, (), g))
        phi = float(_uniform(*PHASE, (), g))
        x = _uniform(*X_RANGE, (k_shot + k_query, 1), g)
        y = a * torch.sin(x - phi)
        tasks.append(Task(x[:k_shot], y[:k_shot], x[k_shot:], y[k_shot:], a, phi))
    return tasks


class SineMLP(nn.Module):
    """1 → 40 → 40 → 1 with ReLU: the regressor of the MAML paper's sine experiment."""

    def __init__(self, hidden: int = 40):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                 nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def pretrain_jointly(model: nn.Module, steps: int = 300, tasks_per_step: int = 10,
                     lr: float = 1e-2, seed: int = 0) -> nn.Module:
    """The non-meta baseline: Adam on the MSE of all support and query points of
    `tasks_per_step` fresh tasks per step (one network for every task at once)."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        tasks = sample_tasks(tasks_per_step, generator=g)
        x = torch.cat([torch.cat([t.x_support, t.x_query]) for t in tasks])
        y = torch.cat([torch.cat([t.y_support, t.y_query]) for t in tasks])
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return model

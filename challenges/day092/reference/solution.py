"""Day 92 reference: MAML (Finn et al., 2017) on sine regression — an inner loop of SGD steps
kept in the autograd graph, so the meta-gradient is second-order."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from graders.data.sine_tasks import sample_tasks


def adapt(model: nn.Module, params: dict, x: torch.Tensor, y: torch.Tensor,
          inner_lr: float = 0.02, steps: int = 1) -> dict:
    for _ in range(steps):
        loss = F.mse_loss(functional_call(model, params, (x,)), y)
        # create_graph: the update stays differentiable, so the meta-gradient sees the Hessian
        grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
        # new tensors: the meta-parameters themselves are never written to
        params = {name: p - inner_lr * g
                  for (name, p), g in zip(params.items(), grads, strict=True)}
    return dict(params)


def maml_loss(model: nn.Module, params: dict, tasks, inner_lr: float = 0.02,
              steps: int = 1) -> torch.Tensor:
    losses = []
    for task in tasks:
        fast = adapt(model, params, task.x_support, task.y_support, inner_lr, steps)
        losses.append(F.mse_loss(functional_call(model, fast, (task.x_query,)), task.y_query))
    return torch.stack(losses).mean()


def maml_train(model: nn.Module, meta_steps: int = 150, meta_batch: int = 5,
               inner_lr: float = 0.02, inner_steps: int = 1, outer_lr: float = 1e-2,
               seed: int = 0) -> nn.Module:
    g = torch.Generator().manual_seed(seed)  # the tasks come from `seed` alone
    opt = torch.optim.Adam(model.parameters(), lr=outer_lr)
    for _ in range(meta_steps):
        tasks = sample_tasks(meta_batch, generator=g)
        opt.zero_grad()
        maml_loss(model, dict(model.named_parameters()), tasks, inner_lr, inner_steps).backward()
        opt.step()
    return model

"""Day 92: MAML — learn an initialisation that adapts to a new sine task in a few SGD steps."""

import torch
from torch import nn


def adapt(model: nn.Module, params: dict, x: torch.Tensor, y: torch.Tensor,
          inner_lr: float = 0.02, steps: int = 1) -> dict:
    """`steps` plain SGD steps on the MSE of model(x) (run with `params`) against y; returns a
    new {name: tensor} dict that stays differentiable with respect to `params`."""
    # TODO: run the network with the given parameters: torch.func.functional_call
    # TODO: take the gradients so that they stay in the graph (second-order MAML)
    # TODO: build NEW tensors p - inner_lr * g; never modify `params` or the model
    raise NotImplementedError("adapt")


def maml_loss(model: nn.Module, params: dict, tasks, inner_lr: float = 0.02,
              steps: int = 1) -> torch.Tensor:
    """Mean over tasks of the query MSE after adapting `params` on the task's support set."""
    # TODO: adapt on (x_support, y_support), score the adapted parameters on the query set
    raise NotImplementedError("maml_loss")


def maml_train(model: nn.Module, meta_steps: int = 150, meta_batch: int = 5,
               inner_lr: float = 0.02, inner_steps: int = 1, outer_lr: float = 1e-2,
               seed: int = 0) -> nn.Module:
    """Meta-train `model` with Adam on maml_loss over tasks drawn from
    graders.data.sine_tasks.sample_tasks with a generator seeded by `seed`; returns it."""
    # TODO: one torch.Generator seeded with `seed` for every task drawn
    # TODO: each meta-step: meta_batch new tasks, maml_loss on the model's parameters,
    #       backward, an Adam step
    raise NotImplementedError("maml_train")

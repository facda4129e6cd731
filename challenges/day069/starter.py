"""Day 69: bfloat16 by hand, autocast inference, and a dynamic loss scaler."""

import numpy as np
import torch
from torch import nn


def bf16_round(x: np.ndarray) -> np.ndarray:
    """float32 values rounded to the nearest bfloat16 (ties to even), returned as float32."""
    # TODO: view the float32 bits as unsigned integers
    # TODO: round the lower 16 bits away: to nearest, ties to the even upper half
    # TODO: keep NaN a NaN; return a new float32 array of x's shape
    raise NotImplementedError("bf16_round")


def autocast_infer(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """model(x) under bfloat16 CPU autocast, without autograd, as float32."""
    # TODO: run the model under torch.autocast on the CPU with bfloat16, without gradients
    # TODO: leave the model as it was (float32 weights, eval mode); return float32
    raise NotImplementedError("autocast_infer")


def autocast_dtypes(model: nn.Module, x: torch.Tensor) -> dict[str, torch.dtype]:
    """The output dtype of every leaf module in one forward pass under bf16 CPU autocast."""
    # TODO: a forward hook on every module without children records its output's dtype
    # TODO: one forward pass under bfloat16 CPU autocast; remove the hooks afterwards
    raise NotImplementedError("autocast_dtypes")


class LossScaler:
    """Dynamic loss scaling with the semantics of torch.amp.GradScaler."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000):
        # TODO: the current scale, the factors, and a count of clean steps in a row
        raise NotImplementedError("LossScaler")

    def get_scale(self) -> float:
        """The current scale."""
        raise NotImplementedError("LossScaler.get_scale")

    def scale(self, loss: torch.Tensor) -> torch.Tensor:
        """loss × scale, still part of the autograd graph."""
        raise NotImplementedError("LossScaler.scale")

    def unscale_(self, optimizer: torch.optim.Optimizer) -> None:
        """Divide every gradient of the optimiser's parameters by the scale, in place (once
        per step), and note whether any of them holds inf or NaN."""
        raise NotImplementedError("LossScaler.unscale_")

    def step(self, optimizer: torch.optim.Optimizer) -> bool:
        """Unscale (unless unscale_ already ran this step), then optimizer.step() only if
        every gradient is finite. True if the step was taken."""
        raise NotImplementedError("LossScaler.step")

    def update(self) -> None:
        """Adapt the scale after the step: back off after an overflow, grow after
        growth_interval clean steps in a row."""
        raise NotImplementedError("LossScaler.update")

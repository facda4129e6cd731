"""Day 69: bfloat16 by hand, autocast inference, and a dynamic loss scaler."""

import numpy as np
import torch
from torch import nn


def bf16_round(x: np.ndarray) -> np.ndarray:
    """float32 values rounded to the nearest bfloat16 (ties to even), returned as float32."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    # round to nearest, ties to even: add 0x7FFF plus the lowest bit that survives
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    out = rounded.astype(np.uint32).view(np.float32).copy()
    nan = np.isnan(x)
    out[nan] = np.nan  # a payload only in the low 16 bits would be rounded away into ±inf
    return out.reshape(np.shape(x))


def autocast_infer(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """model(x) under bfloat16 CPU autocast, without autograd, as float32."""
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x)
    return out.float()


def autocast_dtypes(model: nn.Module, x: torch.Tensor) -> dict[str, torch.dtype]:
    """The output dtype of every leaf module in one forward pass under bf16 CPU autocast."""
    seen: dict[str, torch.dtype] = {}
    hooks = [module.register_forward_hook(
        lambda _m, _inp, out, name=name: seen.__setitem__(name, out.dtype))
        for name, module in model.named_modules() if not list(module.children())]
    try:
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            model(x)
    finally:
        for hook in hooks:
            hook.remove()
    return seen


class LossScaler:
    """Dynamic loss scaling with the semantics of torch.amp.GradScaler."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000):
        self._scale = float(init_scale)
        self.growth_factor = growth_factor
        self.backoff_factor = backoff_factor
        self.growth_interval = growth_interval
        self._clean_steps = 0
        self._unscaled = False
        self._found_inf = False

    def get_scale(self) -> float:
        return self._scale

    def scale(self, loss: torch.Tensor) -> torch.Tensor:
        return loss * self._scale

    def unscale_(self, optimizer: torch.optim.Optimizer) -> None:
        if self._unscaled:  # once per step: a second division would shrink the gradients
            return
        inv = 1.0 / self._scale
        found = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.grad.mul_(inv)
                found = found or not bool(torch.isfinite(p.grad).all())
        self._found_inf = found
        self._unscaled = True

    def step(self, optimizer: torch.optim.Optimizer) -> bool:
        self.unscale_(optimizer)
        if self._found_inf:  # an overflowed step is skipped: no update, no momentum
            return False
        optimizer.step()
        return True

    def update(self) -> None:
        if self._found_inf:
            self._scale *= self.backoff_factor
            self._clean_steps = 0
        else:
            self._clean_steps += 1
            if self._clean_steps == self.growth_interval:
                self._scale *= self.growth_factor
                self._clean_steps = 0
        self._unscaled = False
        self._found_inf = False

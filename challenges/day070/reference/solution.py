"""Day 70: layer freezing and automatic mixed precision training."""

import torch
from torch import nn


def _under(name: str, prefixes) -> bool:
    """True when `name` is a prefix itself or lies inside one: 'a.1' holds 'a.1.w', not 'a.10.w'."""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def freeze(model: nn.Module, prefixes: list[str]) -> list[str]:
    """requires_grad=False on every parameter inside a module named in `prefixes`; the
    names of the frozen parameters, sorted."""
    frozen = []
    for name, p in model.named_parameters():
        if _under(name, prefixes):
            p.requires_grad_(False)
            frozen.append(name)
    return sorted(frozen)


def _frozen_to_eval(model: nn.Module, prefixes) -> None:
    # model.train() switches every module back: frozen BatchNorms must not update their stats
    for name, module in model.named_modules():
        if _under(name, prefixes):
            module.eval()


def train_amp(model: nn.Module, x: torch.Tensor, y: torch.Tensor, frozen: list[str] = (),
              epochs: int = 5, lr: float = 3e-3, batch_size: int = 64,
              seed: int = 0) -> tuple[torch.optim.Optimizer, list[float]]:
    """Fine-tune `model` on (x, y) with the modules in `frozen` frozen, under autocast
    (bfloat16 on the CPU; float16 with a GradScaler on CUDA). Returns the optimiser and the
    mean training loss of each epoch."""
    freeze(model, list(frozen))
    device = next(model.parameters()).device
    cuda = device.type == "cuda"
    dtype = torch.float16 if cuda else torch.bfloat16
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-2)
    scaler = torch.amp.GradScaler("cuda") if cuda else None
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(epochs):
        model.train()
        _frozen_to_eval(model, frozen)
        order = torch.randperm(len(x), generator=gen).to(device)
        total = 0.0
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            opt.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=dtype):
                loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            if scaler is None:
                loss.backward()
                opt.step()
            else:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            total += loss.item() * len(idx)
        losses.append(total / len(x))
    model.eval()
    return opt, losses

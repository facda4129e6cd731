"""Day 93 reference: a runtime mixed-precision tuner. It times every layer in every precision
on the layer's own input (interleaved rounds, medians), scores all 27 plans for accuracy, and
picks the fastest plan whose accuracy stays within the budget."""

import copy
import itertools
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.ao.nn.quantized import dynamic as nnqd
from torch.ao.quantization import default_dynamic_qconfig

LAYERS = ("fc1", "fc2", "fc3")
PRECISIONS = ("fp32", "bf16", "int8")
ROUNDS, WARMUP, BLOCK = 15, 2, 4  # timing: rounds of BLOCK calls per layer variant


class BF16Linear(nn.Module):
    """A Linear computed in bfloat16 that takes and returns float32."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        self.register_buffer("weight", linear.weight.detach().to(torch.bfloat16))
        self.register_buffer("bias", linear.bias.detach().to(torch.bfloat16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x.to(torch.bfloat16), self.weight, self.bias).to(torch.float32)


def _convert(linear: nn.Linear, precision: str) -> nn.Module:
    if precision == "fp32":
        return linear
    if precision == "bf16":
        return BF16Linear(linear)
    linear.qconfig = default_dynamic_qconfig  # qint8 weights per tensor, activations dynamic
    return nnqd.Linear.from_float(linear)


def apply_plan(model: nn.Module, plan: dict[str, str]) -> nn.Module:
    if set(plan) != set(LAYERS):
        raise ValueError(f"a plan names exactly the layers {LAYERS}, got {sorted(plan)}")
    bad = {name: p for name, p in plan.items() if p not in PRECISIONS}
    if bad:
        raise ValueError(f"unknown precision(s) {bad}: use one of {PRECISIONS}")
    out = copy.deepcopy(model).eval()  # the caller keeps its float model
    for name in LAYERS:
        setattr(out, name, _convert(getattr(out, name), plan[name]))
    return out


def choose_plan(rows: list[dict], baseline_accuracy: float, max_drop: float) -> dict[str, str]:
    # drops in percentage points; the 1e-9 keeps a drop of exactly max_drop feasible
    feasible = [r for r in rows
                if 100 * (baseline_accuracy - r["accuracy"]) <= max_drop + 1e-9]
    if not feasible:
        raise ValueError(f"no plan stays within {max_drop} points of {baseline_accuracy:.4f}")
    return dict(min(feasible, key=lambda r: r["latency_ms"])["plan"])  # first of equals


@torch.inference_mode()
def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return (model(x).argmax(1) == y).double().mean().item()


@torch.inference_mode()
def _layer_inputs(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    seen = {}
    hooks = [getattr(model, n).register_forward_pre_hook(
        lambda m, args, n=n: seen.__setitem__(n, args[0])) for n in LAYERS]
    try:
        model(x)
    finally:
        for h in hooks:
            h.remove()
    return seen


@torch.inference_mode()
def _layer_latencies(model: nn.Module, x: torch.Tensor) -> dict[str, dict[str, float]]:
    """Median ms of each layer in each precision on its own input: the variants of a layer
    run in interleaved rounds, so a busy spell slows them all alike."""
    inputs = _layer_inputs(model, x)
    out = {}
    for name in LAYERS:
        variants = {p: _convert(copy.deepcopy(getattr(model, name)), p) for p in PRECISIONS}
        times = {p: [] for p in PRECISIONS}
        for r in range(WARMUP + ROUNDS):
            for p in PRECISIONS if r % 2 == 0 else PRECISIONS[::-1]:
                t = time.thread_time()  # CPU time of this thread: blind to other processes
                for _ in range(BLOCK):
                    variants[p](inputs[name])
                if r >= WARMUP:
                    times[p].append((time.thread_time() - t) / BLOCK * 1e3)
        out[name] = {p: statistics.median(v) for p, v in times.items()}
    return out


def tune(model: nn.Module, x_eval: torch.Tensor, y_eval: torch.Tensor, x_bench: torch.Tensor,
         max_drop: float = 1.0) -> dict[str, str]:
    layer_ms = _layer_latencies(model, x_bench)
    baseline = _accuracy(model, x_eval, y_eval)
    rows = []
    for combo in itertools.product(PRECISIONS, repeat=len(LAYERS)):
        plan = dict(zip(LAYERS, combo, strict=True))
        rows.append({"plan": plan,
                     "accuracy": _accuracy(apply_plan(model, plan), x_eval, y_eval),
                     # layers run one after another: a plan's time is about the sum
                     "latency_ms": sum(layer_ms[n][plan[n]] for n in LAYERS)})
    return choose_plan(rows, baseline, max_drop)

"""Day 93: a runtime mixed-precision tuner — per-layer fp32 / bf16 / int8 under an accuracy
budget, at the lowest latency this machine measures."""

import torch
from torch import nn

LAYERS = ("fc1", "fc2", "fc3")  # the model's Linear layers, in forward order
PRECISIONS = ("fp32", "bf16", "int8")


def apply_plan(model: nn.Module, plan: dict[str, str]) -> nn.Module:
    """A copy of `model` with each layer of LAYERS in the precision `plan` gives it:
    fp32 — the nn.Linear unchanged; bf16 — F.linear(x.bfloat16(), W.bfloat16(),
    b.bfloat16()).float(); int8 — torch.ao.nn.quantized.dynamic.Linear with the default
    dynamic qconfig. Raises ValueError for a plan that does not name exactly LAYERS or that
    uses a precision outside PRECISIONS. `model` is not modified."""
    # TODO: validate the plan (ValueError)
    # TODO: deep-copy the model; replace each layer of the copy by its precision's module
    raise NotImplementedError("apply_plan")


def choose_plan(rows: list[dict], baseline_accuracy: float, max_drop: float) -> dict[str, str]:
    """rows: [{"plan": {...}, "accuracy": fraction 0..1, "latency_ms": float}, ...]. The plan
    of the fastest row whose drop 100·(baseline_accuracy − accuracy) is <= max_drop (points,
    with 1e-9 of slack); the first such row on equal latencies. ValueError when none fits."""
    # TODO: keep the rows within the budget (in points, not fractions)
    # TODO: return the plan of the fastest of them; raise ValueError if there is none
    raise NotImplementedError("choose_plan")


def tune(model: nn.Module, x_eval: torch.Tensor, y_eval: torch.Tensor, x_bench: torch.Tensor,
         max_drop: float = 1.0) -> dict[str, str]:
    """The plan {layer: precision} with the lowest latency on `x_bench` (measured here)
    among the plans whose accuracy on (x_eval, y_eval) is within `max_drop` points of the
    float32 model's. `model` is not modified."""
    # TODO: time each layer in each precision on the input it gets from x_bench
    # TODO: score the accuracy of every plan (3 precisions ** 3 layers = 27)
    # TODO: choose_plan(rows, fp32 accuracy, max_drop)
    raise NotImplementedError("tune")

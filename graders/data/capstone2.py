"""The shared task of capstone 2 (days 85, 87, 88): speed up the inference of one fixed,
trained model without losing accuracy, and measure it honestly.

    from graders.data.capstone2 import load_task, baseline, accuracy_of
    task = load_task()                 # a fresh trained MLP each call, the data, fixed seeds
    fn = baseline(task.model)          # fp32 eager under torch.inference_mode: the baseline
    accuracy_of(fn, task.x_eval, task.y_eval)    # ~0.987 on the 450 held-out digits
    fn(task.x_bench)                   # the benchmark batch: (256, 1, 8, 8) -> (256, 10)

The model is `DigitsMLP(hidden=512)` of graders/data/digits_cnn.py (flatten, fc1 64→512,
ReLU, fc2 512→512, ReLU, fc3 512→10), trained with seed 0 for 5 epochs (0.4 s on one
core): matrix products dominate its time, as in the larger models the capstone stands for.
Every figure is measured on one thread (`torch.set_num_threads(1)`) with the CPU time of the
measuring thread (`time.thread_time`), so other processes on a shared machine do not count.

A benchmark record (day 85's `benchmark`, day 88's table) is a dict checked by
`record_problems`: see RECORD_KEYS.
"""

from __future__ import annotations

import copy
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn

from graders.data.digits_cnn import load_digits_images, trained_mlp

HIDDEN, SEED = 512, 0
BENCH_BATCH, CALIB_SIZE = 256, 256
MIN_REPEATS = 10  # samples a record must hold

# key: (type, what it is) — the schema of one benchmark record
RECORD_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "name": (str, "what was measured"),
    "median_ms": (float, "median of samples_ms"),
    "samples_ms": (list, "per-call time of each timed sample, milliseconds"),
    "repeats": (int, "len(samples_ms), at least 10"),
    "warmup": (int, "timed-and-discarded warm-up blocks, at least 1"),
    "block": (int, "calls per sample, at least 1"),
    "timer": (str, "'thread_time'"),
    "threads": (int, "torch threads while timing: 1"),
}


@dataclass(frozen=True)
class Task:
    model: nn.Module  # the trained fp32 MLP, eval mode (a fresh copy per load_task call)
    calib: torch.Tensor  # (256, 1, 8, 8) float32: the first 256 training images
    x_eval: torch.Tensor  # (450, 1, 8, 8) float32: the test split
    y_eval: torch.Tensor  # (450,) int64
    x_bench: torch.Tensor  # (256, 1, 8, 8) float32: the first 256 test images


@lru_cache(maxsize=1)
def _trained() -> nn.Module:
    return trained_mlp(HIDDEN, seed=SEED)


def load_task() -> Task:
    """The model and the data; fresh copies, safe to modify."""
    data = load_digits_images()
    return Task(copy.deepcopy(_trained()), data.x_train[:CALIB_SIZE].clone(), data.x_test,
                data.y_test, data.x_test[:BENCH_BATCH].clone())


def baseline(model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """fp32 eager inference of `model` (eval mode, no autograd): what every speed-up is over."""
    model.eval()

    def fp32_eager(x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return model(x)

    return fp32_eager


def accuracy_of(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                y: torch.Tensor) -> float:
    """Fraction of `x` whose argmax of fn(x) (one call on the whole batch) equals `y`."""
    with torch.inference_mode():
        out = fn(x)
    return (torch.as_tensor(out).argmax(1) == y).double().mean().item()


def state_of(model: nn.Module) -> tuple[dict[str, torch.Tensor], list[type], bool, list[bool]]:
    """A snapshot to tell later whether a function modified `model`."""
    return ({k: v.detach().clone() for k, v in model.state_dict().items()},
            [type(m) for m in model.modules()], model.training,
            [p.requires_grad for p in model.parameters()])


def changes(model: nn.Module,
            before: tuple[dict[str, torch.Tensor], list[type], bool, list[bool]]) -> str:
    """What changed in `model` since `state_of` (empty when nothing did)."""
    tensors, types, training, grads = before
    now = model.state_dict()
    if set(now) != set(tensors):
        return "its state_dict keys changed"
    for k, v in tensors.items():
        if now[k].dtype != v.dtype or now[k].shape != v.shape or not torch.equal(now[k], v):
            return f"{k} changed (values, dtype or shape)"
    if [type(m) for m in model.modules()] != types:
        return "its modules were replaced"
    if model.training != training:
        return "it was switched to training mode"
    if [p.requires_grad for p in model.parameters()] != grads:
        return ("its parameters' requires_grad was changed (run it under "
                "torch.inference_mode() instead)")
    return ""


def record_problems(record: object, *, name: str = "record") -> list[str]:
    """Everything wrong with one benchmark record against RECORD_KEYS and its statistics."""
    if not isinstance(record, dict):
        return [f"{name} is a {type(record).__name__}, not a dict"]
    problems = []
    missing = [k for k in RECORD_KEYS if k not in record]
    if missing:
        return [f"{name} lacks the key(s) {', '.join(missing)}"]
    for key, (kind, what) in RECORD_KEYS.items():
        value = record[key]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float:
            ok = isinstance(value, float | int) and not isinstance(value, bool)
        if not ok:
            problems.append(f"{name}[{key!r}] is {type(value).__name__}, not {kind.__name__} "
                            f"({what})")
    if problems:
        return problems
    samples = record["samples_ms"]
    if not all(isinstance(s, float | int) and not isinstance(s, bool) and s > 0
               for s in samples):
        return [f"{name}['samples_ms'] must hold positive numbers (milliseconds per call)"]
    if record["repeats"] != len(samples):
        problems.append(f"{name}['repeats'] is {record['repeats']} but samples_ms holds "
                        f"{len(samples)} samples")
    if len(samples) < MIN_REPEATS:
        problems.append(f"{name} has {len(samples)} samples: at least {MIN_REPEATS} are needed")
    if samples:
        want = statistics.median(samples)
        if abs(record["median_ms"] - want) > 1e-9 * max(1.0, want):
            mean = sum(samples) / len(samples)
            which = (" (that is their mean)" if abs(record["median_ms"] - mean) <= 1e-9 * mean
                     else " (that is their minimum)" if record["median_ms"] == min(samples)
                     else "")
            problems.append(f"{name}['median_ms'] is {record['median_ms']:.6g} but the median "
                            f"of its samples_ms is {want:.6g}{which}")
    if record["warmup"] < 1:
        problems.append(f"{name}['warmup'] is {record['warmup']}: time and discard at least "
                        "one warm-up block before the samples (first calls are cold)")
    if record["block"] < 1:
        problems.append(f"{name}['block'] is {record['block']}: at least one call per sample")
    if record["timer"] != "thread_time":
        problems.append(f"{name}['timer'] is {record['timer']!r}, not 'thread_time'")
    if record["threads"] != 1:
        problems.append(f"{name}['threads'] is {record['threads']}, not 1")
    return problems


__all__ = ["BENCH_BATCH", "CALIB_SIZE", "MIN_REPEATS", "RECORD_KEYS", "Task", "accuracy_of",
           "baseline", "changes", "load_task", "record_problems", "state_of"]

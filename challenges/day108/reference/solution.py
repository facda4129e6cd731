"""Day 108 reference: capstone 2 as a reproducible package — the prototype (dynamic int8
quantisation, day 87) and one command that re-runs its benchmarks and writes them down:

    python solution.py --seed 7 --out results.json
"""

import argparse
import copy
import json
import platform
import statistics
import time

import numpy as np
import torch
from torch import nn
from torch.ao.quantization import quantize_dynamic

from graders.bench import measure
from graders.data.capstone2 import accuracy_of, baseline, load_task

RESAMPLES = 200


def prepare(model: nn.Module, calib: torch.Tensor):
    """The prototype: an int8 copy of `model` (the caller's model is left as it was)."""
    int8 = quantize_dynamic(copy.deepcopy(model).eval(), {nn.Linear}, dtype=torch.qint8)

    def int8_dynamic(x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return int8(x)

    return int8_dynamic


def record(fn, x: torch.Tensor, name: str) -> dict:
    """Day 85's benchmark record: thread CPU time, per call, in milliseconds."""
    m = measure(fn, x, name=name, timer=time.thread_time, memory=False, max_time_s=0.5)
    samples_ms = [s * 1e3 for s in m.samples_s]
    return {"name": name, "median_ms": statistics.median(samples_ms), "samples_ms": samples_ms,
            "repeats": len(samples_ms), "warmup": m.warmup, "block": m.block,
            "timer": "thread_time", "threads": 1}


def accuracy_interval(fn, x: torch.Tensor, y: torch.Tensor, seed: int) -> list[float]:
    """The 2.5 and 97.5 percentiles of fn's accuracy over 200 bootstrap resamples of (x, y),
    drawn from torch.Generator().manual_seed(seed): what the seed makes reproducible."""
    with torch.inference_mode():
        correct = (fn(x).argmax(1) == y).double()
    idx = torch.randint(0, len(y), (RESAMPLES, len(y)),
                        generator=torch.Generator().manual_seed(seed))
    accs = correct[idx].mean(1).numpy()
    return [float(np.percentile(accs, 2.5)), float(np.percentile(accs, 97.5))]


def reproduce(out: str, seed: int) -> dict:
    """Re-run every figure of the capstone on one thread and write them to `out` (JSON)."""
    torch.set_num_threads(1)  # every figure, timing or not, on one thread
    task = load_task()
    base, proto = baseline(task.model), prepare(task.model, task.calib)
    acc_base = accuracy_of(base, task.x_eval, task.y_eval)
    acc_proto = accuracy_of(proto, task.x_eval, task.y_eval)
    rec_base = record(base, task.x_bench, "fp32 eager")
    rec_proto = record(proto, task.x_bench, "int8 dynamic")
    results = {
        "seed": seed, "method": "int8 dynamic quantisation of the linear layers",
        "python": platform.python_version(), "torch": torch.__version__, "threads": 1,
        "accuracy_baseline": acc_base, "accuracy_prototype": acc_proto,
        "accuracy_drop_pt": 100 * (acc_base - acc_proto),
        "accuracy_ci": accuracy_interval(proto, task.x_eval, task.y_eval, seed),
        "baseline": rec_base, "prototype": rec_proto,
        "speedup": rec_base["median_ms"] / rec_proto["median_ms"],
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Re-run capstone 2's benchmarks.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results.json")
    args = parser.parse_args(argv)
    reproduce(args.out, args.seed)


if __name__ == "__main__":
    main()

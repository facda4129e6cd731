"""Day 105 — tune a matrix multiply with TVM MetaSchedule on a bounded budget."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import tvm
from tvm import te
from tvm.s_tir import meta_schedule as ms

from graders.data.tvm_tuning import TARGET, lean_tuning


def matmul_module(n: int) -> tvm.IRModule:
    """C = A @ B for float32 (n, n) matrices, as the PrimFunc "main"(A, B, C)."""
    a = te.placeholder((n, n), name="A", dtype="float32")
    b = te.placeholder((n, n), name="B", dtype="float32")
    k = te.reduce_axis((0, n), name="k")
    c = te.compute((n, n), lambda i, j: te.sum(a[i, k] * b[k, j], axis=k), name="C")
    return tvm.IRModule({"main": te.create_prim_func([a, b, c])})


def tune(mod: tvm.IRModule, work_dir: str, trials: int, seed: int):
    """At most `trials` measured candidates, proposed as `seed` decides; the database."""
    return ms.tune_tir(mod, TARGET, work_dir, max_trials_global=trials,
                       num_trials_per_iter=min(trials, 16), seed=seed, **lean_tuning())


def _mean_seconds(record) -> float:
    return float(np.mean([float(s) for s in record.run_secs]))


def best_schedule(database, mod: tvm.IRModule):
    """The schedule of the fastest measured candidate (lowest mean run time)."""
    records = [r for r in database.get_all_tuning_records() if r.run_secs]
    if not records:
        raise ValueError("the database holds no measured candidate")
    best = min(records, key=_mean_seconds)
    sch = tvm.s_tir.Schedule(mod)
    best.trace.apply_to_schedule(sch, remove_postproc=False)
    return sch


def median_ms(func, n: int, number: int = 10, repeat: int = 5) -> float:
    """Median time of one call of a compiled matmul on seeded (n, n) inputs, milliseconds."""
    rng = np.random.default_rng(0)
    dev = tvm.cpu(0)
    a, b = (tvm.runtime.tensor(rng.random((n, n), dtype=np.float32), dev) for _ in range(2))
    c = tvm.runtime.tensor(np.zeros((n, n), dtype=np.float32), dev)
    timer = func.time_evaluator("main", dev, number=number, repeat=repeat, min_repeat_ms=0)
    timer(a, b, c)  # warm-up: the first call pays for page faults and caches
    return float(np.median(timer(a, b, c).results)) * 1e3


def report(n: int = 128, trials: int = 16, seed: int = 0,
           work_dir: str | None = None) -> dict:
    """Tune, compile the best and the untuned default, and time both."""
    with tempfile.TemporaryDirectory() as scratch:
        work_dir = work_dir or os.path.join(scratch, "tuning")
        mod = matmul_module(n)
        database = tune(mod, work_dir, trials, seed)
        tuned = tvm.compile(best_schedule(database, mod).mod, target=TARGET).mod
        untuned = tvm.compile(mod, target=TARGET).mod
        tuned_ms, untuned_ms = median_ms(tuned, n), median_ms(untuned, n)
        return {"n": n, "trials": trials, "seed": seed,
                "measured": len(database.get_all_tuning_records()),
                "tuned_ms": tuned_ms, "untuned_ms": untuned_ms,
                "speedup": untuned_ms / tuned_ms}

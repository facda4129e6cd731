"""Day 105 — tune a matrix multiply with TVM MetaSchedule on a bounded budget.

Read spec.md. Tune with the lean set-up of graders.data.tvm_tuning (MetaSchedule's default
builder and runner take minutes on a small machine).
"""

from __future__ import annotations

import tvm
from tvm import te  # noqa: F401  (te.placeholder, te.compute, te.create_prim_func)
from tvm.s_tir import meta_schedule as ms  # noqa: F401

from graders.data.tvm_tuning import TARGET, lean_tuning  # noqa: F401


def matmul_module(n: int) -> tvm.IRModule:
    """C = A @ B for float32 (n, n) matrices, as the PrimFunc "main"(A, B, C)."""
    raise NotImplementedError("matmul_module")


def tune(mod: tvm.IRModule, work_dir: str, trials: int, seed: int):
    """Tune mod for TARGET: exactly `trials` measured candidates, proposed as `seed` decides.

    Returns the tuning database (written under work_dir)."""
    raise NotImplementedError("tune")


def best_schedule(database, mod: tvm.IRModule):
    """The tvm.s_tir.Schedule of the candidate with the lowest mean run time."""
    raise NotImplementedError("best_schedule")


def median_ms(func, n: int, number: int = 10, repeat: int = 5) -> float:
    """Median time of one call of a compiled (n, n) matmul, in milliseconds."""
    raise NotImplementedError("median_ms")


def report(n: int = 128, trials: int = 16, seed: int = 0,
           work_dir: str | None = None) -> dict:
    """Tune, compile the best schedule and the untuned module, time both; the figures."""
    raise NotImplementedError("report")

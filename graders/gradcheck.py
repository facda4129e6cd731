"""Gradient checks for graders: central finite differences and a relative-error assertion.

The relative error of two gradients is ‖a − b‖ / (‖a‖ + ‖b‖) over all entries (0 when both
are zero): scale-free, bounded by 1, and not fooled by single near-zero entries the way an
entrywise ratio is. A correct float64 backward pass is ~1e-10 from central differences.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def rel_error(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


def numerical_grad(f: Callable[[], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """∂f/∂x by central differences, perturbing `x` in place (and restoring it).

    `f` takes no arguments and reads `x` (e.g. a layer's weight array) when called.
    """
    grad = np.zeros(x.shape, dtype=float)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("numerical_grad needs a contiguous array it can perturb in place")
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        up = float(f())
        flat[i] = old - h
        down = float(f())
        flat[i] = old
        gflat[i] = (up - down) / (2 * h)
    return grad


def assert_grad(got, want, *, what: str, against: str, limit: float = 1e-6) -> None:
    """Fail with the relative error and the worst entry unless rel_error(got, want) < limit."""
    if got is None:
        raise AssertionError(f"{what} is None: the backward pass did not set it")
    try:
        g = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} is {type(got).__name__}, not an array of numbers") from None
    w = np.asarray(want, dtype=float)
    if g.shape != w.shape:
        raise AssertionError(f"{what} has shape {g.shape}, expected {w.shape}")
    if not np.all(np.isfinite(g)):
        raise AssertionError(f"{what} contains NaN or inf")
    err = rel_error(g, w)
    if not err < limit:
        idx = np.unravel_index(np.argmax(np.abs(g - w)), g.shape) if g.ndim else ()
        at = (f"; worst at index {tuple(int(i) for i in idx)}: got {g[idx]:.6g}, "
              f"expected {w[idx]:.6g}")
        raise AssertionError(
            f"{what} disagrees with {against}: relative error {err:.2e} (limit {limit:g}){at}"
        )

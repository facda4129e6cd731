"""Assertions for graders whose failure messages point at the mistake.

`close(actual, expected, what="matmul(A, B)")` fails with the shape or the largest error
and where it is, instead of pytest's dump of two arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def array(value: Any, what: str) -> np.ndarray:
    """`value` as a float array, or a failure saying what it was instead."""
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise AssertionError(
            f"{what} returned {type(value).__name__}, which is not a number or an array of numbers"
        ) from None


def close(actual: Any, expected: Any, *, what: str, rtol: float = 1e-9, atol: float = 1e-12,
          oracle: str = "the reference") -> None:
    """Assert `actual` ≈ `expected` elementwise: |a - e| <= atol + rtol * |e|."""
    a, e = array(actual, what), np.asarray(expected, dtype=float)
    if a.shape != e.shape:
        raise AssertionError(f"{what} has shape {a.shape}, expected {e.shape}")
    if not np.all(np.isfinite(a)) and np.all(np.isfinite(e)):
        raise AssertionError(non_finite(a, what))
    err = np.abs(a - e)
    bound = atol + rtol * np.abs(e)
    if np.any(err > bound):
        idx = np.unravel_index(np.argmax(err - bound), err.shape) if err.ndim else ()
        at = f" at index {tuple(int(i) for i in idx)}" if idx else ""
        got, want = distinct(float(a[idx]), float(e[idx]))
        raise AssertionError(
            f"{what} differs from {oracle}{at}: got {got}, expected {want} "
            f"(|error| {err[idx]:.2e} > tolerance {bound[idx]:.2e})"
        )


def distinct(got: float, expected: float, digits: int = 6) -> tuple[str, str]:
    """The two numbers with enough significant digits to show where they differ (six when
    that already does): a near miss never reads as `got 2.88568, expected 2.88568`."""
    for n in range(digits, 18):
        a, b = f"{got:.{n}g}", f"{expected:.{n}g}"
        if a != b:
            return a, b
    return repr(got), repr(expected)


def non_finite(values: Any, what: str) -> str:
    """Which non-finite values `what` returned, and where the first is."""
    a = np.asarray(values, dtype=float)
    nan, inf = int(np.isnan(a).sum()), int(np.isinf(a).sum())
    kinds = " and ".join(f"{n} {k}" for n, k in ((nan, "NaN"), (inf, "inf")) if n)
    if a.ndim == 0:
        return f"{what} returned {float(a)}, not a finite number"
    idx = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
    return (f"{what} returned {kinds} (of {a.size} values; the first at index {idx}): "
            "look for a division by zero, a log of 0 or an overflowing exp")


def raises(exc_type: type[BaseException], fn, *args, what: str, why: str) -> None:
    """Assert `fn(*args)` raises `exc_type`; `why` says what the input was."""
    try:
        result = fn(*args)
    except exc_type:
        return
    except NotImplementedError:
        raise
    except Exception as exc:  # the wrong exception type is a pointed failure too
        raise AssertionError(
            f"{what} raised {type(exc).__name__} for {why}; the spec asks for {exc_type.__name__}"
        ) from None
    raise AssertionError(
        f"{what} returned {_preview(result)} for {why}; the spec asks for {exc_type.__name__}"
    )


def _preview(value: Any) -> str:
    text = " ".join(repr(value).split())  # one line: a module's repr spans many
    return text if len(text) <= 60 else text[:57] + "..."

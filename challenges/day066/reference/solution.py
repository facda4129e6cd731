"""Day 66 reference: pointer chasing through a random single cycle, knees in the latency
curve, and dependent vs independent chains of the logistic map — compiled with numba."""

import time

import numba
import numpy as np

R = 3.9  # the logistic map's parameter (chaotic: any change of the arithmetic shows)


def sattolo_cycle(n: int, seed: int) -> np.ndarray:
    """A uniformly random permutation of range(n) that is ONE cycle, as a next-index array:
    following nxt from any index visits all n of them before it comes back."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    # linking a uniformly random order into a ring gives each of the (n-1)! cycles with the
    # same probability, as Sattolo's algorithm does, without a Python loop over n
    order = np.random.default_rng(seed).permutation(n)
    nxt = np.empty(n, dtype=np.int64)
    nxt[order] = np.roll(order, -1)
    return nxt


@numba.njit(cache=False)
def chase(nxt: np.ndarray, start: int, steps: int) -> int:
    """Follow `steps` pointers from `start`; each load needs the one before (no overlap)."""
    i = start
    for _ in range(steps):
        i = nxt[i]
    return i


def latency_ns(size_bytes: int, steps: int = 1 << 18, seed: int = 0) -> float:
    """Nanoseconds per dependent load in a random cycle over `size_bytes` of int64s."""
    nxt = sattolo_cycle(size_bytes // 8, seed)
    chase(nxt, 0, nxt.size)  # warm up: the whole working set in the caches (and compiled)
    t0 = time.perf_counter_ns()
    chase(nxt, 0, steps)
    return (time.perf_counter_ns() - t0) / steps


def find_knees(sizes, latencies, count: int = 3, min_rise: float = 1.25) -> list[int]:
    """The sizes just before the `count` steepest rises (latency ratio >= min_rise)."""
    sizes, lat = list(sizes), [float(v) for v in latencies]
    if len(sizes) != len(lat) or len(sizes) < 2:
        raise ValueError("sizes and latencies need the same length, at least 2")
    if any(b <= a for a, b in zip(sizes, sizes[1:], strict=False)):
        raise ValueError("sizes must be strictly increasing")
    if any(v <= 0 for v in lat):
        raise ValueError("latencies must be positive")
    ratios = [(lat[i] / lat[i - 1], i) for i in range(1, len(lat))]
    rises = [r for r in ratios if r[0] >= min_rise]
    # steepest first; equal ratios: the smaller size first
    rises.sort(key=lambda r: (-r[0], r[1]))
    return sorted(int(sizes[i - 1]) for _, i in rises[:count])


@numba.njit(cache=False)
def dependent_chain(x0: float, n: int) -> float:
    """n steps of x = R * x * (1 - x): every step waits for the one before."""
    x = x0
    for _ in range(n):
        x = R * x * (1.0 - x)
    return x


@numba.njit(cache=False)
def independent_chains(x0s: np.ndarray, n: int) -> np.ndarray:
    """Four chains of n steps each, interleaved in one loop; kept in registers (locals, not
    an array: a store and reload would lengthen every chain) so the CPU overlaps them."""
    a, b, c, d = x0s[0], x0s[1], x0s[2], x0s[3]
    for _ in range(n):
        a = R * a * (1.0 - a)
        b = R * b * (1.0 - b)
        c = R * c * (1.0 - c)
        d = R * d * (1.0 - d)
    return np.array([a, b, c, d])

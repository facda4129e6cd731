"""Day 66: CPU microarchitecture — cache-size knees by pointer chasing, and dependent vs
independent instruction chains. Compile the hot loops (numba.njit, or C through ctypes)."""

import numpy as np

R = 3.9  # the logistic map's parameter: x = R * x * (1.0 - x)


def sattolo_cycle(n: int, seed: int) -> np.ndarray:
    """A uniformly random single-cycle permutation of range(n) as an int64 next-index array
    (following nxt from any index visits all n before coming back), drawn from
    np.random.default_rng(seed)."""
    # TODO: Sattolo's algorithm (j from [0, i-1], not [0, i]), or a random order linked
    #       into a ring
    raise NotImplementedError("sattolo_cycle")


def chase(nxt: np.ndarray, start: int, steps: int) -> int:
    """Follow `steps` pointers from `start` (i = nxt[i]) and return where you end; compiled."""
    # TODO: a plain loop — compiled, or the interpreter's overhead hides every cache
    raise NotImplementedError("chase")


def latency_ns(size_bytes: int, steps: int = 1 << 18, seed: int = 0) -> float:
    """Nanoseconds per dependent load in a random cycle of size_bytes // 8 int64 entries."""
    # TODO: build the cycle, chase once through all of it untimed, then time `steps` loads
    raise NotImplementedError("latency_ns")


def find_knees(sizes, latencies, count: int = 3, min_rise: float = 1.25) -> list[int]:
    """The sizes just before the `count` largest rises lat[i] / lat[i-1] >= min_rise
    (equal ratios: the smaller size first), in ascending order, as Python ints.
    Raises ValueError on mismatched lengths, fewer than 2 points, sizes not strictly
    increasing or a latency <= 0."""
    # TODO
    raise NotImplementedError("find_knees")


def dependent_chain(x0: float, n: int) -> float:
    """n steps of x = R * x * (1.0 - x) from x0, each waiting for the one before; compiled."""
    # TODO
    raise NotImplementedError("dependent_chain")


def independent_chains(x0s: np.ndarray, n: int) -> np.ndarray:
    """Four chains, x0s of shape (4,): n steps each, interleaved in one loop so the CPU can
    overlap them; a new float64 array of shape (4,). Compiled."""
    # TODO: four locals updated in the same loop body (not one chain after another)
    raise NotImplementedError("independent_chains")

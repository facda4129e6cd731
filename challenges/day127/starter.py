"""Day 127: day 103's systolic array as a simulated FPGA backend of the demo — an int8
fixed-point MLP whose matrix products run tile by tile through the HDL."""

import numpy as np
from amaranth.lib import wiring

INPUT_FRAC = 7  # images lie in [0, 1]: 7 fractional bits of a signed byte
QMIN, QMAX = -128, 127


class SystolicMatmul(wiring.Component):
    """Day 103: C = A·B for signed n×n matrices of `width`-bit entries, start → done.
    Paste your day 103 design here (same ports, same protocol)."""

    def __init__(self, n: int = 4, width: int = 8):
        raise NotImplementedError("paste your day 103 SystolicMatmul")

    def elaborate(self, platform):
        raise NotImplementedError


def round_shift(v, s: int) -> np.ndarray:
    """v / 2**s rounded half up (floor(v / 2**s + 1/2)) for s > 0; v * 2**-s for s <= 0.
    int64 numpy array in, int64 numpy array out."""
    raise NotImplementedError


def frac_bits(max_abs: float) -> int:
    """The largest f with max_abs * 2**f <= 127: floor(log2(127 / max_abs))."""
    raise NotImplementedError


def simulate_tiles(pairs, n: int = 4, width: int = 8) -> list[np.ndarray]:
    """A @ B for each n×n (A, B) in `pairs`, through ONE simulation of this module's
    SystolicMatmul(n, width): a list of int64 (n, n) arrays, in order."""
    raise NotImplementedError


def tile_matmul(a, b, run_tiles, n: int = 4) -> np.ndarray:
    """(M, K) @ (K, N) of int8-range integers as n×n tile products (edges zero-padded):
    call run_tiles(pairs) ONCE with every (A_block, B_block) pair, add the results up in
    int64 and return the int64 (M, N) product."""
    raise NotImplementedError


class FpgaBackend:
    """The demo model as int8 fixed point; engine "numpy" (int64 matmul) or "sim" (the HDL)."""

    name = "fpga-sim"

    def __init__(self, engine: str = "numpy"):
        self.engine = engine

    def prepare(self, model, calib) -> None:
        """Set self.fw (3 ints) and self.fa (3 ints), quantise the weights and biases."""
        raise NotImplementedError

    def predict(self, x) -> np.ndarray:
        """float32 (N, 1, 8, 8) images -> float32 (N, 10) logits of the fixed-point model."""
        raise NotImplementedError

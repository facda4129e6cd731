"""Day 103: an N×N systolic array that computes C = A·B, in Amaranth."""

from amaranth.hdl import Module, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2


class SystolicMatmul(wiring.Component):
    """C = A·B for signed n×n matrices of `width`-bit entries. A pulse on `start` begins a
    product (a and b are held until done); `done` rises at most 3n cycles later and stays
    up, with C in `c`, until the next start."""

    def __init__(self, n: int = 4, width: int = 8):
        self.n, self.width = n, width
        acc_width = 2 * width + max(1, ceil_log2(n))
        super().__init__({
            "a": In(signed(width)).array(n, n),
            "b": In(signed(width)).array(n, n),
            "start": In(1),
            "c": Out(signed(acc_width)).array(n, n),
            "done": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        # TODO: a step counter t and a busy flag; on start: clear t, c and the PE registers
        # TODO: the skew: at step t, row i's left edge gets a[i][t - i] and column j's top
        #       edge gets b[t - j][j] (0 outside 0..n-1)
        # TODO: PE(i, j): c[i][j] += a_in * b_in; pass a_in right and b_in down (one register)
        # TODO: raise done when PE(n-1, n-1) has taken its last pair (step 3n - 3)
        raise NotImplementedError("SystolicMatmul.elaborate")
        return m

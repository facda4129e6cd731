"""Day 103 reference: an output-stationary N×N systolic array for C = A·B in Amaranth."""

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2


class SystolicMatmul(wiring.Component):
    """C = A·B for signed n×n matrices of `width`-bit entries; start → done in 3n − 1 cycles."""

    def __init__(self, n: int = 4, width: int = 8):
        self.n, self.width = n, width
        # a sum of n products of two width-bit numbers: 2·width bits plus log2(n) of growth
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
        n, width = self.n, self.width
        t = Signal(range(3 * n))  # cycles since start: the wavefront's position
        busy = Signal()
        # PE(i, j) passes its a to the right and its b down, one register each
        a_reg = [[Signal(signed(width), name=f"a_{i}_{j}") for j in range(n)] for i in range(n)]
        b_reg = [[Signal(signed(width), name=f"b_{i}_{j}") for j in range(n)] for i in range(n)]

        # the skew: row i of A enters i cycles late, column j of B j cycles late, so that
        # a[i][k] and b[k][j] meet in PE(i, j) at cycle k + i + j; zeros outside the window
        a_feed = [Signal(signed(width), name=f"a_feed_{i}") for i in range(n)]
        b_feed = [Signal(signed(width), name=f"b_feed_{j}") for j in range(n)]
        with m.If(busy):
            for i in range(n):
                with m.Switch(t):
                    for k in range(n):
                        with m.Case(k + i):
                            m.d.comb += a_feed[i].eq(self.a[i][k])
            for j in range(n):
                with m.Switch(t):
                    for k in range(n):
                        with m.Case(k + j):
                            m.d.comb += b_feed[j].eq(self.b[k][j])

        with m.If(self.start):
            m.d.sync += [t.eq(0), busy.eq(1), self.done.eq(0)]
            m.d.sync += [self.c[i][j].eq(0) for i in range(n) for j in range(n)]
            m.d.sync += [r.eq(0) for row in a_reg + b_reg for r in row]
        with m.Elif(busy):
            m.d.sync += t.eq(t + 1)
            for i in range(n):
                for j in range(n):
                    a_in = a_feed[i] if j == 0 else a_reg[i][j - 1]
                    b_in = b_feed[j] if i == 0 else b_reg[i - 1][j]
                    m.d.sync += [a_reg[i][j].eq(a_in), b_reg[i][j].eq(b_in),
                                 self.c[i][j].eq(self.c[i][j] + a_in * b_in)]
            with m.If(t == 3 * n - 3):  # PE(n-1, n-1) takes its last pair now
                m.d.sync += [busy.eq(0), self.done.eq(1)]
        return m

"""Day 127 reference: day 103's systolic array as a simulated FPGA backend of the demo —
an int8 fixed-point MLP whose matrix products run tile by tile through the HDL."""

import math

import numpy as np
from amaranth.hdl import Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

INPUT_FRAC = 7  # images lie in [0, 1]: 7 fractional bits of a signed byte
QMIN, QMAX = -128, 127


class SystolicMatmul(wiring.Component):
    """Day 103: C = A·B for signed n×n matrices of `width`-bit entries, start → done."""

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
        n, width = self.n, self.width
        t = Signal(range(3 * n))
        busy = Signal()
        a_reg = [[Signal(signed(width), name=f"a_{i}_{j}") for j in range(n)] for i in range(n)]
        b_reg = [[Signal(signed(width), name=f"b_{i}_{j}") for j in range(n)] for i in range(n)]
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
            with m.If(t == 3 * n - 3):
                m.d.sync += [busy.eq(0), self.done.eq(1)]
        return m


def round_shift(v, s: int) -> np.ndarray:
    """v / 2**s rounded half up (floor(v / 2**s + 1/2)) for s > 0; v * 2**-s for s <= 0."""
    v = np.asarray(v, dtype=np.int64)
    if s <= 0:
        return v << -s
    return (v + (1 << (s - 1))) >> s  # >> on int64 is an arithmetic (flooring) shift


def frac_bits(max_abs: float) -> int:
    """The most fractional bits that keep max_abs within a signed byte's 127."""
    return math.floor(math.log2(127 / float(max_abs)))


def simulate_tiles(pairs, n: int = 4, width: int = 8) -> list[np.ndarray]:
    """A @ B for each n×n (A, B) in `pairs`, through one simulation of SystolicMatmul."""
    from amaranth.sim import Simulator

    dut = SystolicMatmul(n, width)
    out = []

    async def bench(ctx):
        for A, B in pairs:
            for i in range(n):
                for k in range(n):
                    ctx.set(dut.a[i][k], int(A[i][k]))
                    ctx.set(dut.b[i][k], int(B[i][k]))
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            while not ctx.get(dut.done):
                await ctx.tick()
            out.append(np.array([[ctx.get(dut.c[i][j]) for j in range(n)] for i in range(n)],
                                dtype=np.int64))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return out


def tile_matmul(a, b, run_tiles, n: int = 4) -> np.ndarray:
    """(M, K) @ (K, N) of int8-range integers as n×n tile products (zero-padded), run by
    `run_tiles` in one call, accumulated in int64."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    (M, K), N = a.shape, b.shape[1]
    up = lambda d: -(-d // n) * n  # noqa: E731
    ap = np.zeros((up(M), up(K)), dtype=np.int64)
    bp = np.zeros((up(K), up(N)), dtype=np.int64)
    ap[:M, :K], bp[:K, :N] = a, b
    index, pairs = [], []
    for i in range(0, up(M), n):
        for j in range(0, up(N), n):
            for k in range(0, up(K), n):
                index.append((i, j))
                pairs.append((ap[i:i + n, k:k + n], bp[k:k + n, j:j + n]))
    c = np.zeros((up(M), up(N)), dtype=np.int64)
    for (i, j), tile in zip(index, run_tiles(pairs), strict=True):
        c[i:i + n, j:j + n] += np.asarray(tile, dtype=np.int64)
    return c[:M, :N]


class FpgaBackend:
    """The demo model as int8 fixed point; engine "numpy" (int64 matmul) or "sim" (the HDL)."""

    name = "fpga-sim"

    def __init__(self, engine: str = "numpy"):
        if engine not in ("numpy", "sim"):
            raise ValueError(f"engine must be 'numpy' or 'sim', not {engine!r}")
        self.engine = engine

    def prepare(self, model, calib) -> None:
        layers = [model.fc1, model.fc2, model.fc3]
        ws = [lay.weight.detach().numpy().astype(np.float64) for lay in layers]
        bs = [lay.bias.detach().numpy().astype(np.float64) for lay in layers]
        self.fw = [frac_bits(np.abs(w).max()) for w in ws]
        # activation formats from the float model's ReLU outputs on the calibration images
        h = np.asarray(calib.detach().numpy(), dtype=np.float64).reshape(len(calib), -1)
        self.fa = [INPUT_FRAC]
        for w, b in zip(ws[:2], bs[:2], strict=True):
            h = np.maximum(h @ w.T + b, 0.0)
            self.fa.append(frac_bits(h.max()))
        self.wq = [np.clip(np.rint(w * 2.0 ** f), QMIN, QMAX).astype(np.int64)
                   for w, f in zip(ws, self.fw, strict=True)]
        self.bq = [np.rint(b * 2.0 ** (fa + fw)).astype(np.int64)
                   for b, fa, fw in zip(bs, self.fa, self.fw, strict=True)]

    def _matmul(self, a, b) -> np.ndarray:
        if self.engine == "sim":
            return tile_matmul(a, b, simulate_tiles)
        return a @ b

    def predict(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        a = np.clip(np.rint(x * 2.0 ** self.fa[0]), QMIN, QMAX).astype(np.int64)
        for layer in range(3):
            f = self.fa[layer] + self.fw[layer]
            acc = self._matmul(a, self.wq[layer].T) + self.bq[layer]
            if layer < 2:
                a = np.clip(round_shift(acc, f - self.fa[layer + 1]), 0, QMAX)
        return (acc * 2.0 ** -f).astype(np.float32)

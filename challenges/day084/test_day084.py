"""Day 84 grader: integer-only inference after Jacob et al. (2018). Each primitive against an
exact closed form in Python integers (gemmlowp's rounding, ties included), the requantised
result against the float64 product acc·M (within one step), the integer path read for float
operations, and the paper's result re-run: an MLP on the digits keeps its float accuracy
within 1 point when every layer runs in uint8/int32."""

import ast
import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from graders import expect
from graders.data.digits_cnn import DigitsMLP, load_digits_images, train

torch.set_num_threads(1)
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INTEGER_PATH = ["srdhm", "rounding_divide_by_pot", "requantize", "quantized_linear"]
MAX_DROP_PT = 1.0
HIDDEN, EPOCHS, SEED, N_CALIB = 64, 20, 0, 256


# ---- the closed forms (exact, Python integers and fractions) ----

def half_away(v: Fraction) -> int:
    """Nearest integer, ties away from zero."""
    n = math.floor(abs(v) + Fraction(1, 2))
    return n if v >= 0 else -n


def srdhm_oracle(a: int, b: int) -> int:
    if a == b == INT32_MIN:
        return INT32_MAX
    return (a * b + 2**30) >> 31  # round(a·b / 2**31), ties toward +infinity


def rdbpot_oracle(x: int, e: int) -> int:
    q, r = divmod(abs(x), 2**e)  # |x| / 2**e to the nearest, ties away from zero
    n = q + (2 * r >= 2**e if e else 0)
    return n if x >= 0 else -n


def multiplier_oracle(M: float) -> tuple[int, int]:
    """(M0, shift) by exact search: the shift that puts M·2**(31+shift) in [2**30, 2**31)
    once rounded."""
    shift = 0
    while half_away(Fraction(M) * 2 ** (31 + shift)) < 2**30:
        shift += 1
    return half_away(Fraction(M) * 2 ** (31 + shift)), shift


def requantize_oracle(acc: int, m0: int, shift: int, zp: int, qmin: int, qmax: int) -> int:
    return min(qmax, max(qmin, rdbpot_oracle(srdhm_oracle(acc, m0), shift) + zp))


def check_int32(got, shape, what):
    assert isinstance(got, np.ndarray) and got.dtype == np.int32 and got.shape == shape, (
        f"{what} returned {type(got).__name__} {getattr(got, 'dtype', '')} of shape "
        f"{np.shape(got)}; expected an int32 NumPy array of shape {shape}")


def first_mismatch(got, want, inputs, what):
    bad = np.flatnonzero(np.asarray(got).ravel() != np.asarray(want).ravel())
    if bad.size:
        i = int(bad[0])
        pytest.fail(f"{what}: {bad.size} of {np.size(want)} values wrong; first at "
                    f"{', '.join(f'{k}={v[i]}' for k, v in inputs.items())}: got "
                    f"{np.asarray(got).ravel()[i]}, the exact value is "
                    f"{np.asarray(want).ravel()[i]}", pytrace=False)


# ---- affine quantisation (the float side) ----

@pytest.mark.parametrize("x_min,x_max,qmin,qmax,want", [
    (-1.0, 3.0, 0, 255, (4 / 255, 64)),
    (-0.5, 254.5, 0, 255, (1.0, 1)),  # x_min/scale = −0.5: a tie, away from zero
    (-2.5, 252.5, -128, 127, (1.0, -125)),  # −2.5 → −3 (half to even would give −2)
    (0.5, 2.0, 0, 255, (2 / 255, 0)),  # range extended down to 0
    (-3.0, -1.0, -128, 127, (3 / 255, 127)),  # range extended up to 0
    (0.0, 0.0, 0, 255, (1.0, 0)),
    (0.0, 0.0, -128, 127, (1.0, -128)),  # an empty range: zero point qmin, not 0
])
def test_choose_qparams(solution, x_min, x_max, qmin, qmax, want):
    got = solution.choose_qparams(x_min, x_max, qmin, qmax)
    what = f"choose_qparams({x_min}, {x_max}, {qmin}, {qmax})"
    assert isinstance(got, tuple) and len(got) == 2, f"{what} must return (scale, zero_point)"
    scale, zp = got
    assert abs(float(scale) - want[0]) <= 1e-12 * want[0], (
        f"{what}: scale {scale!r}, expected {want[0]!r} = (max(x_max, 0) − min(x_min, 0)) / "
        "(qmax − qmin)")
    assert isinstance(zp, int | np.integer) and int(zp) == want[1], (
        f"{what}: zero point {zp!r}, expected the integer {want[1]} = qmin − "
        "round(min(x_min, 0) / scale), ties away from zero (not half to even)")


def test_quantize(solution):
    scale, zp = 0.25, 10
    x = np.array([[0.125, -0.125, 0.375, -0.375, 0.1, 1.0],
                  [100.0, -100.0, -2.5, 0.0, 63.6, -0.3]], dtype=np.float32)
    saved = x.copy()
    got = solution.quantize(x, scale, zp, 0, 255)
    check_int32(got, x.shape, "quantize")
    want = np.array([[min(255, max(0, half_away(Fraction(float(v)) / Fraction(scale)) + zp))
                      for v in row] for row in x])
    first_mismatch(got, want, {"x": x.ravel()},
                   "quantize(x, 0.25, 10, 0, 255) (round x/scale ties away from zero, add "
                   "the zero point, clamp)")
    assert np.array_equal(x, saved), "quantize modified its input"


# ---- the fixed-point multiplier ----

def multiplier_cases():
    rng = np.random.default_rng(84)
    ms = list(2.0 ** rng.uniform(-32, 0, 400))
    return ms + [2.0**-32, 0.5, 0.75, 0.5 + 2.0**-32, 0.25 - 2.0**-40, 0.5 - 2.0**-40,
                 1 - 2.0**-31, 3.0e-5]


def test_quantize_multiplier(solution):
    for M in multiplier_cases():
        got = solution.quantize_multiplier(M)
        assert isinstance(got, tuple) and len(got) == 2, "quantize_multiplier returns (M0, shift)"
        m0, shift = got
        what = f"quantize_multiplier({M!r})"
        assert isinstance(m0, int | np.integer) and isinstance(shift, int | np.integer), (
            f"{what} returned {got!r}: M0 and shift must be integers")
        m0, shift = int(m0), int(shift)
        assert 2**30 <= m0 < 2**31, (
            f"{what}: M0 = {m0} is outside [2**30, 2**31): normalise M = M0·2**−31·2**−shift "
            "so that M0/2**31 lies in [0.5, 1) — and when rounding gives M0 = 2**31, halve it "
            "and take one from the shift")
        assert 0 <= shift <= 31, f"{what}: shift {shift} outside 0..31"
        exact = half_away(Fraction(M) * 2 ** (31 + shift))
        assert m0 == exact, (
            f"{what}: M0 = {m0}, expected {exact} = round(M·2**(31+shift)), ties away from "
            "zero (Python's round() rounds ties to even)")


@pytest.mark.parametrize("M", [0.0, -0.25, 1.0, 1.5, 2.0**-33, 1 - 2.0**-32])
def test_quantize_multiplier_rejects_out_of_range(solution, M):
    expect.raises(ValueError, solution.quantize_multiplier, M,
                  what=f"quantize_multiplier({M!r})", why="M must lie in [2**-32, 1 − 2**-32)")


# ---- gemmlowp's integer primitives ----

def srdhm_cases():
    rng = np.random.default_rng(1)
    a = list(rng.integers(INT32_MIN, INT32_MAX, 3000, endpoint=True))
    b = list(rng.integers(INT32_MIN, INT32_MAX, 3000, endpoint=True))
    for k in (-3, -2, -1, 0, 1, 2, 5):  # a·b = (k + ½)·2**31: exact ties, both signs
        a.append((2 * k + 1) * 2**15)
        b.append(2**15)
    a += [INT32_MIN, INT32_MIN, INT32_MAX, INT32_MIN, -1, 1, 0, -(2**30) - 1, 7]
    b += [INT32_MIN, INT32_MAX, INT32_MAX, 2**30, 2**30, 2**30, INT32_MIN, 2**30 + 3, -(2**30)]
    return np.array(a, dtype=np.int32), np.array(b, dtype=np.int32)


def test_srdhm(solution):
    a, b = srdhm_cases()
    saved = a.copy(), b.copy()
    got = solution.srdhm(a, b)
    check_int32(got, a.shape, "srdhm(a, b)")
    want = np.array([srdhm_oracle(int(x), int(y)) for x, y in zip(a, b, strict=True)])
    first_mismatch(got, want, {"a": a, "b": b},
                   "srdhm = SaturatingRoundingDoublingHighMul (round a·b/2**31 to nearest, ties "
                   "toward +∞; C division truncates toward zero, NumPy's // floors)")
    assert np.array_equal(a, saved[0]) and np.array_equal(b, saved[1]), "srdhm modified an input"
    scalar_b = solution.srdhm(a[:50], int(b[0]))
    check_int32(scalar_b, (50,), "srdhm(a, python int)")
    first_mismatch(scalar_b, [srdhm_oracle(int(x), int(b[0])) for x in a[:50]],
                   {"a": a[:50]}, f"srdhm(a, {int(b[0])}) with a Python int multiplier")


@pytest.mark.parametrize("exponent", [0, 1, 2, 3, 5, 8, 17, 30, 31])
def test_rounding_divide_by_pot(solution, exponent):
    rng = np.random.default_rng(exponent)
    x = list(rng.integers(INT32_MIN, INT32_MAX, 2000, endpoint=True))
    if exponent:
        half = 2 ** (exponent - 1)  # exact ties x = (k + ½)·2**e, both signs
        x += [k * 2**exponent + half for k in (-3, -2, -1, 0, 1, 2) if
              INT32_MIN <= k * 2**exponent + half <= INT32_MAX]
        x += [k * 2**exponent + half + d for k in (-2, -1, 0, 1) for d in (-1, 1)
              if INT32_MIN <= k * 2**exponent + half + d <= INT32_MAX]
    x += [INT32_MIN, INT32_MAX, -1, 0, 1]
    x = np.array(x, dtype=np.int32)
    saved = x.copy()
    got = solution.rounding_divide_by_pot(x, exponent)
    assert np.array_equal(x, saved), "rounding_divide_by_pot modified its input"
    check_int32(got, x.shape, f"rounding_divide_by_pot(x, {exponent})")
    want = np.array([rdbpot_oracle(int(v), exponent) for v in x])
    first_mismatch(got, want, {"x": x},
                   f"rounding_divide_by_pot(x, {exponent}) (x / 2**{exponent} rounded to "
                   "nearest, ties away from zero: an arithmetic shift alone floors, adding "
                   "2**(e−1) first rounds negative ties up)")


# ---- requantisation and the quantised layer ----

@pytest.mark.parametrize("M,zp,qmin,qmax", [
    (0.75, 0, 0, 255), (0.0421, 128, 0, 255), (0.3, -3, -128, 127), (3.7e-4, 10, 0, 255),
    (0.5 + 2.0**-32, 5, -128, 127), (1.1e-9, 0, -128, 127),
])
def test_requantize(solution, M, zp, qmin, qmax):
    m0, shift = multiplier_oracle(M)
    rng = np.random.default_rng(int(M * 1e9) % 1000)
    span = int(min(2**31 - 1, 400 / M))  # results around the quantised range, clamped or not
    acc = rng.integers(-span, span, 3000, endpoint=True).astype(np.int32)
    acc[:4] = [INT32_MIN, INT32_MAX, 0, -1]
    saved = acc.copy()
    got = solution.requantize(acc, m0, shift, zp, qmin, qmax)
    assert np.array_equal(acc, saved), "requantize modified its input"
    check_int32(got, acc.shape, "requantize")
    want = np.array([requantize_oracle(int(a), int(m0), int(shift), zp, qmin, qmax)
                     for a in acc])
    first_mismatch(got, want, {"acc": acc},
                   f"requantize(acc, {m0}, {shift}, {zp}, {qmin}, {qmax}) = clamp(zp + "
                   "rounding_divide_by_pot(srdhm(acc, M0), shift))")
    # the float64 closed form: within one step of zp + acc·M where nothing is clamped
    real = zp + acc.astype(np.float64) * M
    inside = (real > qmin + 1) & (real < qmax - 1)
    err = float(np.abs(got[inside] - real[inside]).max()) if inside.any() else 0.0
    assert err <= 1.0 + 1e-6, (
        f"requantize with M = {M}: {err:.3f} steps from zp + acc·M (float64), at most 1 allowed")


def linear_case(seed, qmin, qmax, n=9, k=13, m=6):
    rng = np.random.default_rng(seed)
    q_x = rng.integers(qmin, qmax, (n, k), endpoint=True).astype(np.int32)
    q_w = rng.integers(qmin, qmax, (m, k), endpoint=True).astype(np.int32)
    zp_x, zp_w, zp_out = (int(v) for v in rng.integers(qmin, qmax, 3, endpoint=True))
    q_bias = rng.integers(-20000, 20000, m).astype(np.int32)
    return q_x, zp_x, q_w, zp_w, q_bias, zp_out


@pytest.mark.parametrize("qmin,qmax,M", [(0, 255, 0.0007), (-128, 127, 0.00123),
                                         (0, 255, 2.0**-12)])
def test_quantized_linear(solution, qmin, qmax, M):
    q_x, zp_x, q_w, zp_w, q_bias, zp_out = linear_case(int(M * 1e6), qmin, qmax)
    inputs = [a.copy() for a in (q_x, q_w, q_bias)]
    m0, shift = multiplier_oracle(M)
    got = solution.quantized_linear(q_x, zp_x, q_w, zp_w, q_bias, m0, shift, zp_out, qmin, qmax)
    check_int32(got, (q_x.shape[0], q_w.shape[0]), "quantized_linear")
    acc = ((q_x.astype(np.int64) - zp_x) @ (q_w.astype(np.int64) - zp_w).T + q_bias)
    want = np.array([[requantize_oracle(int(a), int(m0), int(shift), zp_out, qmin, qmax)
                      for a in row] for row in acc])
    what = (f"quantized_linear with {qmin}..{qmax} values (zero points x {zp_x}, w {zp_w}, "
            f"out {zp_out})")
    if not np.array_equal(got, want):
        hint = ""
        for name, wrong in {
            "the weights' zero point": q_x.astype(np.int64) - zp_x,
        }.items():
            alt = (wrong @ q_w.astype(np.int64).T + q_bias)
            alt_q = np.array([[requantize_oracle(int(a), int(m0), int(shift), zp_out, qmin,
                                                 qmax) for a in row] for row in alt])
            if np.array_equal(got, alt_q):
                hint = f" — {name} is missing from the accumulator (eq. 7)"
        pytest.fail(f"{what}: {int((got != want).sum())} of {want.size} outputs differ from "
                    f"requantize(Σ(q_x − zp_x)(q_w − zp_w) + bias){hint}", pytrace=False)
    assert all(np.array_equal(a, b) for a, b in zip(inputs, (q_x, q_w, q_bias), strict=True)), (
        "quantized_linear modified an input")


# ---- no floats in the integer path ----

FLOAT_ATTRS = {"float16", "float32", "float64", "double", "single", "half", "round", "around",
               "rint", "floor", "ceil", "trunc", "divide", "true_divide", "exp", "log", "log2",
               "sqrt", "ldexp", "frexp"}
FLOAT_NAMES = {"float", "round", "math"}  # bare names: local variables may be called `half`


def float_uses(source: str, roots: list[str]) -> list[str]:
    """Float literals, true division and float functions in `roots` and every module-level
    function they call (by name)."""
    tree = ast.parse(source)
    funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    todo, seen, found = [r for r in roots if r in funcs], set(), []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for node in ast.walk(funcs[name]):
            where = f"{name}, line {getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                found.append(f"{where}: the float literal {node.value!r}")
            elif isinstance(node, ast.BinOp | ast.AugAssign) and isinstance(node.op, ast.Div):
                found.append(f"{where}: true division '/' (gives floats)")
            elif isinstance(node, ast.Attribute) and node.attr in FLOAT_ATTRS:
                found.append(f"{where}: {node.attr}")
            elif isinstance(node, ast.Name) and node.id in FLOAT_NAMES:
                found.append(f"{where}: {node.id}")
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                    node.value.id == "math":
                found.append(f"{where}: math.{node.attr}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                    node.func.id in funcs:
                todo.append(node.func.id)
    return found


def test_integer_path_has_no_float_operations(solution_dir):
    source = (solution_dir / "solution.py").read_text(encoding="utf-8")
    found = float_uses(source, INTEGER_PATH)
    assert not found, (
        "the integer path (" + ", ".join(INTEGER_PATH) + " and the functions they call) must "
        "use integer arithmetic only; found " + "; ".join(found[:5]))


# ---- the paper's result: integer-only inference keeps the float accuracy ----

@pytest.fixture(scope="module")
def float_mlp():
    d = load_digits_images()
    torch.manual_seed(SEED)
    model = train(DigitsMLP(HIDDEN), d.x_train, d.y_train, epochs=EPOCHS, seed=SEED)
    layers = [(fc.weight.detach().numpy().copy(), fc.bias.detach().numpy().copy())
              for fc in (model.fc1, model.fc2, model.fc3)]
    x_test = d.x_test.reshape(-1, 64)
    with torch.no_grad():
        float_pred = model(x_test).argmax(1).numpy()
    return (layers, d.x_train[:N_CALIB].reshape(-1, 64).numpy(), x_test.numpy(),
            d.y_test.numpy(), float_pred)


def test_integer_mlp_matches_float_accuracy(solution, float_mlp, monkeypatch, record_metric):
    layers, x_calib, x_test, y_test, float_pred = float_mlp
    calls = []
    real = solution.quantized_linear

    def counted(q_x, *args, **kwargs):
        assert isinstance(q_x, np.ndarray) and np.issubdtype(q_x.dtype, np.integer), (
            f"integer_mlp_predict passed {type(q_x).__name__} "
            f"{getattr(q_x, 'dtype', '')} activations to quantized_linear; they must be "
            "integer arrays")
        out = real(q_x, *args, **kwargs)
        calls.append(out.shape)
        return out

    monkeypatch.setattr(solution, "quantized_linear", counted)
    saved = [w.copy() for pair in layers for w in pair]
    pred = solution.integer_mlp_predict(layers, x_calib, x_test)
    assert len(calls) == len(layers), (
        f"integer_mlp_predict called quantized_linear {len(calls)} times; every one of the "
        f"{len(layers)} layers must run through it")
    pred = np.asarray(pred)
    assert pred.shape == y_test.shape and np.issubdtype(pred.dtype, np.integer), (
        f"integer_mlp_predict returned {pred.dtype} of shape {pred.shape}; expected integer "
        f"class indices of shape {y_test.shape}")
    assert all(np.array_equal(a, b) for a, b in
               zip(saved, [w for pair in layers for w in pair], strict=True)), (
        "integer_mlp_predict modified the float layers")
    acc_float = float((float_pred == y_test).mean())
    acc_int = float((pred == y_test).mean())
    drop = 100 * (acc_float - acc_int)
    record_metric("float_accuracy", acc_float)
    record_metric("integer_accuracy", acc_int)
    record_metric("accuracy_drop_pt", drop, unit="pt", target=f"<= {MAX_DROP_PT}",
                  verdict="PASS" if drop <= MAX_DROP_PT else "FAIL")
    assert drop <= MAX_DROP_PT, (
        f"integer-only inference: {acc_int:.2%} on the 450 test digits against the float "
        f"model's {acc_float:.2%} ({drop:.1f} points lost, at most {MAX_DROP_PT} allowed); "
        f"it agrees with the float predictions on {(pred == float_pred).mean():.1%}")

"""Day 84: integer-only inference (Jacob et al., CVPR 2018) — affine quantisation, an int32
accumulator, and a fixed-point requantisation multiplier with gemmlowp's rounding."""

import numpy as np  # noqa: F401  (the starter leaves it unused until you write the code)

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def choose_qparams(x_min, x_max, qmin=0, qmax=255):
    """(scale, zero_point) of the affine map r = scale·(q − zero_point) for reals in
    [min(x_min, 0), max(x_max, 0)]; zero_point a Python int."""
    # TODO: widen the range to include 0, scale = range / (qmax − qmin)
    # TODO: zero_point = qmin − round(lo / scale), lo = min(x_min, 0), ties away from zero
    #       (not round()); clamp it to [qmin, qmax]
    raise NotImplementedError("choose_qparams")


def quantize(x, scale, zero_point, qmin=0, qmax=255):
    """q = clamp(round(x / scale) + zero_point, qmin, qmax) as an int32 array (ties away)."""
    raise NotImplementedError("quantize")


def quantize_multiplier(M):
    """(M0, shift) with M ≈ M0 · 2**−31 · 2**−shift, 2**30 ≤ M0 < 2**31, 0 ≤ shift ≤ 31;
    ValueError unless 2**−32 ≤ M < 1 − 2**−32."""
    # TODO: M = frac · 2**exp with frac in [0.5, 1) (math.frexp); M0 = round(frac · 2**31)
    #       ties away from zero; if that rounds up to 2**31, halve M0 and take 1 off shift
    raise NotImplementedError("quantize_multiplier")


def srdhm(a, b):
    """gemmlowp's SaturatingRoundingDoublingHighMul, elementwise on int32 (b may be an int)."""
    # TODO: the 64-bit product, the nudge, division by 2**31 truncating toward zero, and the
    #       one overflow case
    raise NotImplementedError("srdhm")


def rounding_divide_by_pot(x, exponent):
    """gemmlowp's RoundingDivideByPOT: x / 2**exponent, to nearest, ties away from zero."""
    raise NotImplementedError("rounding_divide_by_pot")


def requantize(acc, M0, shift, zero_point, qmin=0, qmax=255):
    """clamp(zero_point + rounding_divide_by_pot(srdhm(acc, M0), shift), qmin, qmax), int32."""
    raise NotImplementedError("requantize")


def quantized_linear(q_x, zp_x, q_w, zp_w, q_bias, M0, shift, zp_out, qmin=0, qmax=255):
    """A quantised fully-connected layer: q_x (N, K), q_w (out, K), q_bias (out,) int32 →
    requantised outputs (N, out) int32. Integers only."""
    # TODO: the int32 accumulator Σ (q_x − zp_x)(q_w − zp_w) + q_bias (eq. 7 expands it)
    # TODO: requantize it with (M0, shift) and zp_out
    raise NotImplementedError("quantized_linear")


def integer_mlp_predict(layers, x_calib, x):
    """Quantise the float MLP `layers` = [(W (out, in), b (out,)), ...] (ReLU between layers)
    with ranges calibrated on x_calib, run x through it with quantized_linear only, and
    return the predicted classes (N,) as integers."""
    # TODO: see the spec for the scheme
    raise NotImplementedError("integer_mlp_predict")

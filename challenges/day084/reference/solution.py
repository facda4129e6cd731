"""Day 84 reference: integer-only inference (Jacob et al., 2018) with gemmlowp's rounding."""

import math

import numpy as np

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def round_half_away(v):
    """Round to nearest, ties away from zero (C's std::round)."""
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def choose_qparams(x_min, x_max, qmin=0, qmax=255):
    x_min, x_max = min(float(x_min), 0.0), max(float(x_max), 0.0)  # real 0 must be exact
    if x_max == x_min:
        return 1.0, int(qmin)
    scale = (x_max - x_min) / (qmax - qmin)
    zero_point = qmin - int(round_half_away(x_min / scale))
    return scale, int(np.clip(zero_point, qmin, qmax))


def quantize(x, scale, zero_point, qmin=0, qmax=255):
    q = round_half_away(np.asarray(x, dtype=np.float64) / scale) + zero_point
    return np.clip(q, qmin, qmax).astype(np.int32)


def quantize_multiplier(M):
    M = float(M)
    if not 2.0**-32 <= M < 1.0 - 2.0**-32:
        raise ValueError(f"real multiplier {M!r} outside [2**-32, 1 - 2**-32)")
    frac, exp = math.frexp(M)  # M = frac · 2**exp, frac in [0.5, 1)
    m0 = math.floor(frac * 2**31 + 0.5)  # half away from zero (M > 0)
    shift = -exp
    if m0 == 2**31:  # frac rounded up to 1.0: renormalise into [2**30, 2**31)
        m0 //= 2
        shift -= 1
    return m0, shift


def srdhm(a, b):
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    num = ab + nudge
    high = np.where(num >= 0, num >> 31, -((-num) >> 31))  # C division: toward zero
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    return np.where(overflow, INT32_MAX, high).astype(np.int32)


def rounding_divide_by_pot(x, exponent):
    x = np.asarray(x, dtype=np.int32)
    mask = np.int32((1 << exponent) - 1)
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0).astype(np.int32)
    return ((x >> exponent) + (remainder > threshold).astype(np.int32)).astype(np.int32)


def requantize(acc, M0, shift, zero_point, qmin=0, qmax=255):
    x = rounding_divide_by_pot(srdhm(acc, M0), shift)
    return np.clip(x.astype(np.int64) + zero_point, qmin, qmax).astype(np.int32)


def quantized_linear(q_x, zp_x, q_w, zp_w, q_bias, M0, shift, zp_out, qmin=0, qmax=255):
    q_x = np.asarray(q_x, dtype=np.int64)
    q_w = np.asarray(q_w, dtype=np.int64)
    k = q_x.shape[1]
    # eq. 7: N·Z1·Z2 − Z1·Σq2 − Z2·Σq1 + Σq1·q2, all in integers
    acc = (q_x @ q_w.T
           - zp_w * q_x.sum(axis=1, keepdims=True)
           - zp_x * q_w.sum(axis=1)[None, :]
           + k * zp_x * zp_w
           + np.asarray(q_bias, dtype=np.int64)[None, :])
    return requantize(acc.astype(np.int32), M0, shift, zp_out, qmin, qmax)


def integer_mlp_predict(layers, x_calib, x):
    """Float layers [(W, b), ...] → uint8 integer-only inference; predicted classes (N,)."""
    x_calib = np.asarray(x_calib, dtype=np.float64)
    a_scale, a_zp = choose_qparams(x_calib.min(), x_calib.max())
    q = quantize(x, a_scale, a_zp)
    h = x_calib
    for i, (W, b) in enumerate(layers):
        W, b = np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)
        w_scale, w_zp = choose_qparams(W.min(), W.max())
        q_w = quantize(W, w_scale, w_zp)
        q_b = round_half_away(b / (a_scale * w_scale)).astype(np.int32)
        h = h @ W.T + b
        if i < len(layers) - 1:
            h = np.maximum(h, 0.0)
        o_scale, o_zp = choose_qparams(h.min(), h.max())
        m0, shift = quantize_multiplier(a_scale * w_scale / o_scale)
        q = quantized_linear(q, a_zp, q_w, w_zp, q_b, m0, shift, o_zp)
        a_scale, a_zp = o_scale, o_zp
    return q.argmax(axis=1).astype(np.int64)

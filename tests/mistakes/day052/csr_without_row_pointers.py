# mistake: the CSR size counts values and column indices but not the row pointers
# expect: you left out the row pointer array


import numpy as np

EPS = float(np.finfo(np.float32).eps)  # the smallest scale torch's observers allow


def affine_qparams(x_min, x_max, qmin=0, qmax=255):
    lo, hi = min(float(x_min), 0.0), max(float(x_max), 0.0)  # 0.0 must be representable
    scale = max((hi - lo) / (qmax - qmin), EPS)
    zero_point = int(np.clip(qmin - np.round(lo / scale), qmin, qmax))
    return float(scale), zero_point


def symmetric_qparams(x_min, x_max, qmin=-128, qmax=127):
    amax = max(-min(float(x_min), 0.0), max(float(x_max), 0.0))
    scale = max(amax / ((qmax - qmin) / 2), EPS)
    zero_point = 0 if qmin < 0 else (qmin + qmax + 1) // 2
    return float(scale), zero_point


def quantize(x, scale, zero_point, qmin, qmax):
    x = np.asarray(x, dtype=np.float64)
    # np.round rounds halves to even, as torch does
    return np.clip(np.round(x / scale) + zero_point, qmin, qmax).astype(np.int64)


def dequantize(q, scale, zero_point):
    return (np.asarray(q, dtype=np.float64) - zero_point) * scale


def per_channel_symmetric_qparams(w, axis=0, qmin=-128, qmax=127):
    w = np.asarray(w, dtype=np.float64)
    others = tuple(i for i in range(w.ndim) if i != axis % w.ndim)
    amax = np.abs(w).max(axis=others)
    scales = np.maximum(amax / ((qmax - qmin) / 2), EPS)
    zero = 0 if qmin < 0 else (qmin + qmax + 1) // 2
    return scales, np.full(scales.shape, zero, dtype=np.int64)


def quantize_per_channel(w, scales, zero_points, axis, qmin, qmax):
    w = np.asarray(w, dtype=np.float64)
    shape = [1] * w.ndim
    shape[axis] = -1  # broadcast one scale per slice along `axis`
    s = np.asarray(scales, dtype=np.float64).reshape(shape)
    z = np.asarray(zero_points).reshape(shape)
    return np.clip(np.round(w / s) + z, qmin, qmax).astype(np.int64)


def error_bound(x, scale, zero_point, qmin, qmax):
    x = np.asarray(x, dtype=np.float64)
    lo, hi = (qmin - zero_point) * scale, (qmax - zero_point) * scale
    clipped = np.maximum(lo - x, x - hi)  # > 0 only outside the representable range
    return np.maximum(scale / 2, clipped)


def sqnr_db(x, x_hat):
    x = np.asarray(x, dtype=np.float64)
    noise = np.sum((x - np.asarray(x_hat, dtype=np.float64)) ** 2)
    return float("inf") if noise == 0 else float(10 * np.log10(np.sum(x ** 2) / noise))


def magnitude_prune(w, sparsity):
    w = np.asarray(w)
    k = round(sparsity * w.size)  # how many weights to remove (Python's round, as torch)
    mask = np.ones(w.size, dtype=bool)
    if k > 0:
        mask[np.argsort(np.abs(w), axis=None, kind="stable")[:k]] = False
    mask = mask.reshape(w.shape)
    return np.where(mask, w, 0).astype(w.dtype), mask


def sparsity(w):
    w = np.asarray(w)
    return float(np.count_nonzero(w == 0) / w.size)


def csr_nbytes(w, value_bytes=4, index_bytes=4):
    w = np.asarray(w)
    nnz = int(np.count_nonzero(w))
    # values and column indices for each non-zero, plus one row pointer per row and one more
    return nnz * (value_bytes + index_bytes)


def break_even_sparsity(rows, cols, value_bytes=4, index_bytes=4):
    dense = rows * cols * value_bytes
    # (1 - s)·rows·cols·(v + i) + (rows + 1)·i = dense, solved for s
    return 1 - dense / (rows * cols * (value_bytes + index_bytes))

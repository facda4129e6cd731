"""Day 52: the arithmetic of uniform quantisation and magnitude pruning, in numpy only."""

import numpy as np


def affine_qparams(x_min: float, x_max: float, qmin: int = 0, qmax: int = 255
                   ) -> tuple[float, int]:
    """(scale, zero_point) mapping [x_min, x_max] (widened to contain 0) onto [qmin, qmax]."""
    # TODO: lo/hi including 0, scale (at least float32 eps), integer zero point clipped
    raise NotImplementedError("affine_qparams")


def symmetric_qparams(x_min: float, x_max: float, qmin: int = -128, qmax: int = 127
                      ) -> tuple[float, int]:
    """(scale, zero_point) of symmetric quantisation: scale = max|x| / ((qmax - qmin) / 2)."""
    raise NotImplementedError("symmetric_qparams")


def quantize(x: np.ndarray, scale: float, zero_point: int, qmin: int, qmax: int) -> np.ndarray:
    """Integer codes clip(round(x / scale) + zero_point, qmin, qmax), dtype int64."""
    raise NotImplementedError("quantize")


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Real values (q - zero_point) * scale, float."""
    raise NotImplementedError("dequantize")


def per_channel_symmetric_qparams(w: np.ndarray, axis: int = 0, qmin: int = -128,
                                  qmax: int = 127) -> tuple[np.ndarray, np.ndarray]:
    """One symmetric (scale, zero_point) per slice of `w` along `axis`: arrays of that length."""
    raise NotImplementedError("per_channel_symmetric_qparams")


def quantize_per_channel(w: np.ndarray, scales: np.ndarray, zero_points: np.ndarray,
                         axis: int, qmin: int, qmax: int) -> np.ndarray:
    """quantize() with one scale and zero point per slice along `axis`."""
    raise NotImplementedError("quantize_per_channel")


def error_bound(x: np.ndarray, scale: float, zero_point: int, qmin: int,
                qmax: int) -> np.ndarray:
    """Worst-case |x - dequantize(quantize(x))| for each element of x."""
    raise NotImplementedError("error_bound")


def sqnr_db(x: np.ndarray, x_hat: np.ndarray) -> float:
    """Signal-to-quantisation-noise ratio 10·log10(Σx² / Σ(x - x_hat)²) in dB (inf if exact)."""
    raise NotImplementedError("sqnr_db")


def magnitude_prune(w: np.ndarray, sparsity: float) -> tuple[np.ndarray, np.ndarray]:
    """(pruned copy of w, boolean mask of kept weights): the round(sparsity·size) weights of
    smallest magnitude set to 0."""
    raise NotImplementedError("magnitude_prune")


def sparsity(w: np.ndarray) -> float:
    """Fraction of entries that are exactly zero."""
    raise NotImplementedError("sparsity")


def csr_nbytes(w: np.ndarray, value_bytes: int = 4, index_bytes: int = 4) -> int:
    """Bytes of the 2-D matrix w in CSR form (values, column indices, row pointers)."""
    raise NotImplementedError("csr_nbytes")


def break_even_sparsity(rows: int, cols: int, value_bytes: int = 4,
                        index_bytes: int = 4) -> float:
    """The sparsity at which CSR takes exactly as many bytes as the dense matrix."""
    raise NotImplementedError("break_even_sparsity")

"""Day 101 reference: a tiled shared-memory matrix multiply in the CUDA model (numba.cuda)."""

import math

import numpy as np
from numba import cuda, float32

TILE = 16  # threads per block edge and the edge of each shared-memory tile


@cuda.jit
def matmul_kernel(A, B, C):
    """C = A @ B; one thread per element of C, blocks of TILE x TILE threads."""
    sA = cuda.shared.array((TILE, TILE), float32)
    sB = cuda.shared.array((TILE, TILE), float32)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    row = cuda.blockIdx.y * TILE + ty
    col = cuda.blockIdx.x * TILE + tx
    m, k = A.shape
    n = B.shape[1]
    acc = float32(0.0)
    for t in range((k + TILE - 1) // TILE):
        # every thread loads one element of each tile; outside the matrices it loads 0,
        # so the partial tiles at the edges add nothing
        a_col = t * TILE + tx
        b_row = t * TILE + ty
        sA[ty, tx] = A[row, a_col] if row < m and a_col < k else float32(0.0)
        sB[ty, tx] = B[b_row, col] if b_row < k and col < n else float32(0.0)
        cuda.syncthreads()  # the whole tile is loaded before anyone reads it
        for i in range(TILE):
            acc += sA[ty, i] * sB[i, tx]
        cuda.syncthreads()  # nobody overwrites the tile while others still read it
    if row < m and col < n:
        C[row, col] = acc


def launch_config(m, n):
    """(blocks per grid, threads per block) for an m x n result: x spans columns, y rows."""
    return (math.ceil(n / TILE), math.ceil(m / TILE)), (TILE, TILE)


def matmul(A, B):
    """A @ B computed by matmul_kernel: float32 (m, n) numpy array."""
    A = np.ascontiguousarray(A, dtype=np.float32)
    B = np.ascontiguousarray(B, dtype=np.float32)
    if A.ndim != 2 or B.ndim != 2:
        raise ValueError(f"matmul takes two 2-D arrays, got {A.ndim}-D and {B.ndim}-D")
    if A.shape[1] != B.shape[0]:
        raise ValueError(f"inner dimensions differ: {A.shape} @ {B.shape}")
    m, n = A.shape[0], B.shape[1]
    d_a, d_b = cuda.to_device(A), cuda.to_device(B)
    d_c = cuda.device_array((m, n), dtype=np.float32)
    grid, block = launch_config(m, n)
    matmul_kernel[grid, block](d_a, d_b, d_c)
    return d_c.copy_to_host()

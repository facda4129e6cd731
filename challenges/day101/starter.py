"""Day 101: a tiled shared-memory matrix multiply kernel in the CUDA model (numba.cuda).

Without an NVIDIA GPU, run it in numba's CUDA simulator: NUMBA_ENABLE_CUDASIM=1 python ...
"""

import math  # noqa: F401

import numpy as np  # noqa: F401
from numba import cuda, float32  # noqa: F401

TILE = 16  # threads per block edge and the edge of each shared-memory tile


@cuda.jit
def matmul_kernel(A, B, C):
    """C = A @ B for float32 A (m, k), B (k, n), C (m, n); blocks of TILE x TILE threads,
    thread (threadIdx.y, threadIdx.x) of block (blockIdx.y, blockIdx.x) computes
    C[blockIdx.y * TILE + threadIdx.y, blockIdx.x * TILE + threadIdx.x]."""
    # TODO: two shared tiles, cuda.shared.array((TILE, TILE), float32), one per line
    # TODO: for each step along k: every thread loads one element of the A tile and one of
    #       the B tile (0 outside the matrices), barrier, add TILE products from shared
    #       memory into a register, barrier
    # TODO: write the register to C once, only inside the matrix
    raise NotImplementedError("matmul_kernel")


def launch_config(m, n):
    """(blocks per grid, threads per block) for an (m, n) result: ((bx, by), (TILE, TILE)),
    x spanning columns and y rows."""
    # TODO: enough blocks to cover every row and column (round up)
    raise NotImplementedError("launch_config")


def matmul(A, B):
    """A @ B computed on the device by matmul_kernel; a float32 numpy array (m, n)."""
    # TODO: ValueError unless A and B are 2-D with A.shape[1] == B.shape[0]
    # TODO: float32 C-contiguous copies to the device, an (m, n) result there, launch with
    #       launch_config, copy the result back
    raise NotImplementedError("matmul")

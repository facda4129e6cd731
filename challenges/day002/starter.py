"""Day 2: LU (partial pivoting) and QR factorisations with numpy, without numpy.linalg."""

import numpy as np  # noqa: F401  (arrays and elementwise maths are allowed)


def lu(A):
    """Return (P, L, U) with P @ A = L @ U, partial pivoting; ValueError if A is not square."""
    # TODO: copy A to U (float), start from P = I and L = I
    # TODO: for each column k: pick the pivot row (largest |U[i, k]| for i >= k), swap rows
    #       of U, P and the already computed part of L, then eliminate below the pivot
    raise NotImplementedError("lu")


def qr(A):
    """Return the reduced (Q, R) of an m x n matrix (m >= n) with R[j, j] >= 0."""
    # TODO: Householder reflections or modified Gram-Schmidt
    raise NotImplementedError("qr")


def solve(A, b):
    """Solve A x = b using your lu(): forward substitution, then back substitution."""
    # TODO
    raise NotImplementedError("solve")

"""Day 1 reference: vector operations and matrix multiplication in pure Python."""

import math


def _check_same_length(u, v, what):
    if len(u) != len(v):
        raise ValueError(f"{what}: vectors of lengths {len(u)} and {len(v)}")


def _shape(A):
    """(rows, columns) of a matrix; ValueError if it is empty or ragged."""
    if not A or not A[0]:
        raise ValueError("a matrix needs at least one row and one column")
    n = len(A[0])
    if any(len(row) != n for row in A):
        raise ValueError("ragged matrix: rows of different lengths")
    return len(A), n


def dot(u, v):
    _check_same_length(u, v, "dot")
    return sum(a * b for a, b in zip(u, v, strict=True))


def add(u, v):
    _check_same_length(u, v, "add")
    return [a + b for a, b in zip(u, v, strict=True)]


def scale(c, v):
    return [c * a for a in v]


def norm(v):
    return math.sqrt(dot(v, v))


def transpose(A):
    m, n = _shape(A)
    return [[A[i][j] for i in range(m)] for j in range(n)]


def matvec(A, x):
    _, n = _shape(A)
    if len(x) != n:
        raise ValueError(f"matvec: matrix has {n} columns but the vector has length {len(x)}")
    return [dot(row, x) for row in A]


def matmul(A, B):
    _, n = _shape(A)
    n2, _ = _shape(B)
    if n != n2:
        raise ValueError(f"matmul: inner dimensions differ ({n} and {n2})")
    columns = transpose(B)
    return [[dot(row, col) for col in columns] for row in A]

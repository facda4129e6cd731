# mistake: matmul pairs rows of A with rows of B (computes A·Bᵀ), right only when B is symmetric
# expect: differs from numpy
import math


def _check(A):
    if not A or any(len(r) != len(A[0]) for r in A):
        raise ValueError("ragged")


def dot(u, v):
    if len(u) != len(v):
        raise ValueError("length")
    return sum(a * b for a, b in zip(u, v))


def add(u, v):
    if len(u) != len(v):
        raise ValueError("length")
    return [a + b for a, b in zip(u, v)]


def scale(c, v):
    return [c * a for a in v]


def norm(v):
    return math.sqrt(dot(v, v))


def transpose(A):
    _check(A)
    return [[A[i][j] for i in range(len(A))] for j in range(len(A[0]))]


def matvec(A, x):
    _check(A)
    return [dot(row, x) for row in A]


def matmul(A, B):
    _check(A)
    _check(B)
    if len(A[0]) != len(B):
        raise ValueError("inner")
    return [[sum(A[i][k] * B[j][k] for k in range(len(B[0]))) if len(B[0]) == len(A[0]) else 0.0
             for j in range(len(B[0]))] for i in range(len(A))]

# mistake: add() accumulates into its first argument instead of returning a new list
# expect: modified its arguments
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
    for i in range(len(u)):
        u[i] += v[i]
    return u


def scale(c, v):
    return [c * a for a in v]


def norm(v):
    return math.sqrt(dot(v, v))


def transpose(A):
    _check(A)
    return [[A[i][j] for i in range(len(A))] for j in range(len(A[0]))]


def matvec(A, x):
    _check(A)
    if len(x) != len(A[0]):
        raise ValueError("shape")
    return [dot(row, x) for row in A]


def matmul(A, B):
    _check(A)
    _check(B)
    if len(A[0]) != len(B):
        raise ValueError("inner")
    return [[dot(row, col) for col in transpose(B)] for row in A]

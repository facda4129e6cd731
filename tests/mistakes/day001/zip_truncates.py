# mistake: no shape checks, so zip() silently truncates mismatched inputs
# expect: the spec asks for ValueError
import math


def dot(u, v):
    return sum(a * b for a, b in zip(u, v))


def add(u, v):
    return [a + b for a, b in zip(u, v)]


def scale(c, v):
    return [c * a for a in v]


def norm(v):
    return math.sqrt(dot(v, v))


def transpose(A):
    return [list(col) for col in zip(*A)]


def matvec(A, x):
    return [dot(row, x) for row in A]


def matmul(A, B):
    return [[dot(row, col) for col in transpose(B)] for row in A]

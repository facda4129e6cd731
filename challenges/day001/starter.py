"""Day 1: vector operations and matrix multiplication in pure Python (no numpy)."""


def dot(u, v):
    """The dot product of two vectors of equal length; ValueError otherwise."""
    # TODO: check the lengths, then sum u[i] * v[i]
    raise NotImplementedError("dot")


def add(u, v):
    """The vector u + v as a new list; ValueError if the lengths differ."""
    # TODO
    raise NotImplementedError("add")


def scale(c, v):
    """The vector c * v as a new list."""
    # TODO
    raise NotImplementedError("scale")


def norm(v):
    """The Euclidean length of v."""
    # TODO: the square root of dot(v, v)
    raise NotImplementedError("norm")


def transpose(A):
    """The n x m transpose of an m x n matrix (a list of rows); ValueError if ragged."""
    # TODO
    raise NotImplementedError("transpose")


def matvec(A, x):
    """A @ x for an m x n matrix A and a vector of length n; ValueError on a mismatch."""
    # TODO
    raise NotImplementedError("matvec")


def matmul(A, B):
    """A @ B for an m x n matrix A and an n x p matrix B; ValueError on a mismatch."""
    # TODO: entry (i, j) is the dot product of row i of A and column j of B
    raise NotImplementedError("matmul")

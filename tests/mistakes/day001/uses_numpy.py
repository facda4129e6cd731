# mistake: hands the work to numpy, which day 1 forbids
# expect: the spec forbids numpy
import numpy as np


def dot(u, v):
    return float(np.dot(u, v))


def add(u, v):
    return np.add(u, v).tolist()


def scale(c, v):
    return (c * np.asarray(v)).tolist()


def norm(v):
    return float(np.linalg.norm(v))


def transpose(A):
    return np.asarray(A).T.tolist()


def matvec(A, x):
    return (np.asarray(A) @ np.asarray(x)).tolist()


def matmul(A, B):
    return (np.asarray(A) @ np.asarray(B)).tolist()

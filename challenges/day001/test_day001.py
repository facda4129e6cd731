"""Day 1 grader: pure-Python vector and matrix operations, checked against numpy."""

import copy

import numpy as np
import pytest

from graders import expect, forbid

RNG = np.random.default_rng(20240101)
TOL = dict(rtol=1e-9, atol=1e-12, oracle="numpy")
SHAPES = [(1, 1, 1), (1, 4, 1), (3, 1, 5), (2, 3, 4), (5, 5, 5), (7, 2, 3), (4, 9, 1)]


def vec(n):
    return RNG.standard_normal(n).tolist()


def mat(m, n):
    return RNG.standard_normal((m, n)).tolist()


def call_unchanged(fn, *args, what):
    """Call fn and check that it left its arguments as they were."""
    before = copy.deepcopy(args)
    result = fn(*args)
    assert list(args) == list(before), f"{what} modified its arguments; return new lists instead"
    return result


def assert_list_matrix(value, what):
    assert isinstance(value, list) and all(isinstance(r, list) for r in value), (
        f"{what} must return a list of lists (rows), got {type(value).__name__}"
    )


def test_no_numpy_or_other_packages(solution_dir):
    forbid.assert_not_used(solution_dir, ["numpy", "scipy", "torch", "sklearn", "pandas"],
                           why="day 1 is pure Python")


@pytest.mark.parametrize("n", [1, 2, 7, 50])
def test_vector_operations_match_numpy(solution, n):
    u, v, c = vec(n), vec(n), float(RNG.standard_normal())
    dotted = call_unchanged(solution.dot, u, v, what="dot")
    expect.close(dotted, np.dot(u, v), what="dot(u, v)", **TOL)
    added = call_unchanged(solution.add, u, v, what="add")
    assert isinstance(added, list), f"add must return a list, got {type(added).__name__}"
    expect.close(added, np.add(u, v), what="add(u, v)", **TOL)
    expect.close(call_unchanged(solution.scale, c, v, what="scale"), c * np.array(v),
                 what="scale(c, v)", **TOL)
    expect.close(solution.norm(v), np.linalg.norm(v), what="norm(v)", **TOL)


@pytest.mark.parametrize("m,n,_p", SHAPES)
def test_transpose_of_any_shape(solution, m, n, _p):
    A = mat(m, n)
    result = call_unchanged(solution.transpose, A, what="transpose")
    assert_list_matrix(result, "transpose")
    expect.close(result, np.array(A).T, what=f"transpose of a {m}x{n} matrix", **TOL)


@pytest.mark.parametrize("m,n,_p", SHAPES)
def test_matvec_matches_numpy(solution, m, n, _p):
    A, x = mat(m, n), vec(n)
    result = call_unchanged(solution.matvec, A, x, what="matvec")
    expect.close(result, np.array(A) @ np.array(x), what=f"matvec of a {m}x{n} matrix", **TOL)


@pytest.mark.parametrize("m,n,p", SHAPES)
def test_matmul_matches_numpy(solution, m, n, p):
    A, B = mat(m, n), mat(n, p)
    result = call_unchanged(solution.matmul, A, B, what="matmul")
    assert_list_matrix(result, "matmul")
    expect.close(result, np.array(A) @ np.array(B), what=f"matmul of {m}x{n} by {n}x{p}", **TOL)


def test_matmul_is_not_commutative(solution):
    A, B = [[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [1.0, 0.0]]
    expect.close(solution.matmul(A, B), [[2.0, 1.0], [4.0, 3.0]], what="matmul(A, B)", **TOL)
    expect.close(solution.matmul(B, A), [[3.0, 4.0], [1.0, 2.0]], what="matmul(B, A)", **TOL)


def test_empty_vectors_give_new_results(solution):
    u, v = [], []
    assert solution.dot(u, v) == 0, "dot([], []) must be 0 (an empty sum)"
    added = solution.add(u, v)
    assert added == [] and added is not u and added is not v, (
        "add([], []) must return a new empty list, not one of its arguments")
    scaled = solution.scale(2.0, v)
    assert scaled == [] and scaled is not v, "scale(c, []) must return a new empty list"


def test_integer_inputs(solution):
    product = solution.matmul([[1, 2, 3]], [[4], [5], [6]])
    expect.close(product, [[32]], what="matmul of ints", **TOL)
    assert solution.dot([1, 2], [3, 4]) == 11


def test_mismatched_vectors_raise(solution):
    for name in ("dot", "add"):
        expect.raises(ValueError, getattr(solution, name), [1.0, 2.0, 3.0], [1.0, 2.0],
                      what=name, why="vectors of lengths 3 and 2 (zip() would silently truncate)")


def test_mismatched_matrices_raise(solution):
    expect.raises(ValueError, solution.matmul, mat(2, 3), mat(2, 3),
                  what="matmul", why="a 2x3 times a 2x3 matrix (inner dimensions 3 and 2)")
    expect.raises(ValueError, solution.matmul, mat(2, 3), mat(4, 2),
                  what="matmul", why="a 2x3 times a 4x2 matrix (inner dimensions 3 and 4)")
    expect.raises(ValueError, solution.matvec, mat(2, 3), vec(2),
                  what="matvec", why="a 2x3 matrix and a vector of length 2")
    expect.raises(ValueError, solution.matvec, mat(2, 3), vec(4),
                  what="matvec", why="a 2x3 matrix and a vector of length 4 (longer than n)")


def test_ragged_matrices_raise(solution):
    ragged = [[1.0, 2.0], [3.0]]
    expect.raises(ValueError, solution.transpose, ragged, what="transpose", why="a ragged matrix")
    expect.raises(ValueError, solution.matmul, ragged, [[1.0], [2.0]],
                  what="matmul", why="a ragged left matrix")
    expect.raises(ValueError, solution.matmul, [[1.0, 2.0]], ragged,
                  what="matmul", why="a ragged right matrix")
    expect.raises(ValueError, solution.matvec, ragged, [1.0, 2.0],
                  what="matvec", why="a ragged matrix")

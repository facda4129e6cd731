"""Day 82 grader: the L-BFGS two-loop recursion against the dense BFGS inverse-Hessian
update, the fixed-step iteration against torch.optim.LBFGS's search directions, and the
learner's minimiser on Rosenbrock functions against scipy.optimize (L-BFGS-B)."""

import numpy as np
import pytest
import torch
from scipy.optimize import minimize, rosen, rosen_der

from graders import forbid

torch.set_num_threads(1)
BANNED = ["torch.optim", "scipy.optimize", "scipy.sparse.linalg"]
TWO_LOOP_RTOL = 1e-10
DIR_RTOL = 1e-9
X_ATOL, GRAD_MAX = 1e-5, 1e-6
MAX_ITER = 1000


def test_no_library_optimiser(solution_dir):
    forbid.assert_not_used(solution_dir, BANNED, why="write L-BFGS yourself")


def dense_bfgs_direction(g, s_list, y_list):
    """-H g with H from H0 = γI (γ from the newest pair) and one BFGS update per pair."""
    n = len(g)
    gamma = (s_list[-1] @ y_list[-1]) / (y_list[-1] @ y_list[-1]) if s_list else 1.0
    H = gamma * np.eye(n)
    for s, y in zip(s_list, y_list, strict=True):
        rho = 1.0 / (y @ s)
        V = np.eye(n) - rho * np.outer(y, s)
        H = V.T @ H @ V + rho * np.outer(s, s)
    return -H @ g


def spd_pairs(n, k, seed):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    A = M @ M.T + 0.5 * np.eye(n)
    s_list = [rng.standard_normal(n) for _ in range(k)]
    return rng.standard_normal(n), s_list, [A @ s for s in s_list]


@pytest.mark.parametrize("n,k,seed", [(5, 0, 1), (5, 1, 2), (6, 3, 3), (8, 5, 4)])
def test_two_loop_equals_the_dense_bfgs_update(solution, n, k, seed):
    g, s_list, y_list = spd_pairs(n, k, seed)
    saved = [a.copy() for a in [g, *s_list, *y_list]]
    lists = [list(s_list), list(y_list)]
    with forbid.calls("torch.optim.LBFGS", "scipy.optimize.minimize"):
        got = solution.two_loop(g, s_list, y_list)
    want = dense_bfgs_direction(g, s_list, y_list)
    assert isinstance(got, np.ndarray) and got.shape == want.shape and got.dtype == np.float64, (
        f"two_loop returned {type(got).__name__} {getattr(got, 'dtype', '')} of shape "
        f"{np.shape(got)}, expected a float64 NumPy array of shape {want.shape}")
    err = float(np.abs(got - want).max() / np.abs(want).max())
    assert err <= TWO_LOOP_RTOL, (
        f"two_loop with {k} pair(s) in {n} dimensions differs from −H·g of the dense BFGS "
        f"update (relative error {err:.2e} > {TWO_LOOP_RTOL:g}): the first loop runs newest "
        "pair first, the second oldest first; H0 = γI with γ = sᵀy/yᵀy of the newest pair "
        "(1 without pairs); the result is the descent direction −H·g")
    assert all(np.array_equal(a, b) for a, b in zip([g, *s_list, *y_list], saved,
                                                    strict=True)), (
        "two_loop must not modify g or the stored pairs")
    assert [len(s_list), len(y_list)] == [len(lists[0]), len(lists[1])] and all(
        a is b for a, b in zip([*s_list, *y_list], [*lists[0], *lists[1]], strict=True)), (
        "two_loop must not modify s_list or y_list (reverse or pop a copy of them)")


def torch_directions(A, b, x0, steps, history_size, lr):
    """The direction torch.optim.LBFGS (no line search) takes at each iteration."""
    p = torch.tensor(x0, requires_grad=True)
    opt = torch.optim.LBFGS([p], lr=lr, max_iter=1, history_size=history_size,
                            tolerance_grad=1e-14, tolerance_change=0, line_search_fn=None)
    At, bt = torch.tensor(A), torch.tensor(b)

    def closure():
        opt.zero_grad()
        loss = 0.5 * p @ At @ p - bt @ p
        loss.backward()
        return loss

    dirs = []
    for _ in range(steps):
        opt.step(closure)
        dirs.append(opt.state[p]["d"].detach().clone().numpy())
    return dirs


def convex_quadratic():
    rng = np.random.default_rng(82)
    M = rng.standard_normal((6, 6))
    return M @ M.T + 0.5 * np.eye(6), rng.standard_normal(6), rng.standard_normal(6)


def indefinite_quadratic():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    return Q @ np.diag([-0.5, 1.0, 2.0, 3.0]) @ Q.T, rng.standard_normal(4), rng.standard_normal(4)


FIRST_STEP = ("the first step's length is t = min(1, 1/‖g‖₁)·lr, later ones lr; s = t·d of "
              "the previous step")
CASES = {
    "convex, lr 0.5": (convex_quadratic, 5, 3, 0.5, FIRST_STEP),
    "convex": (convex_quadratic, 8, 3, 1.0,
               "the first step's length is t = min(1, 1/‖g‖₁)·lr, later ones lr; s = t·d of "
               "the previous step, y = the change of gradient; keep only the newest "
               "history_size pairs, dropping the oldest"),
    "indefinite": (indefinite_quadratic, 6, 3, 1.0,
                   "on this function some pairs have sᵀy ≤ 1e-10 (negative curvature): they "
                   "must be skipped, not stored"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fixed_step_directions_match_torch_lbfgs(solution, case):
    make, steps, history, lr, rule = CASES[case]
    A, b, x0 = make()
    want = torch_directions(A, b, x0, steps, history, lr)
    with forbid.calls("torch.optim.LBFGS", "scipy.optimize.minimize"):
        got = solution.lbfgs_fixed_step(lambda x: A @ x - b, x0.copy(), steps,
                                        history_size=history, lr=lr)
    assert len(got) == steps, f"lbfgs_fixed_step returned {len(got)} directions for {steps} steps"
    for k, (d, w) in enumerate(zip(got, want, strict=True)):
        d = np.asarray(d, dtype=np.float64)
        err = float(np.abs(d - w).max() / np.abs(w).max())
        assert err <= DIR_RTOL, (
            f"{case} quadratic (history_size {history}, lr {lr:g}): the direction of iteration {k} "
            f"differs from torch.optim.LBFGS's (relative error {err:.2e} > {DIR_RTOL:g}); "
            f"{rule}")


ROSENBROCK = {"2-D from (-1.2, 1)": np.array([-1.2, 1.0]),
              "5-D from (-1.2, 1, -1.2, 1, -1.2)": np.array([-1.2, 1.0, -1.2, 1.0, -1.2]),
              "10-D from 0": np.zeros(10)}


@pytest.mark.parametrize("name", list(ROSENBROCK))
def test_rosenbrock_minimum_matches_scipy(solution, name):
    x0 = ROSENBROCK[name]
    want = minimize(rosen, x0, jac=rosen_der, method="L-BFGS-B",
                    options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 5000}).x
    with forbid.calls("torch.optim.LBFGS", "scipy.optimize.minimize"):
        x, n_iter = solution.minimize_lbfgs(rosen, rosen_der, x0.copy(), history_size=10,
                                            max_iter=MAX_ITER, gtol=1e-8)
    assert isinstance(x, np.ndarray) and x.shape == x0.shape and x.dtype == np.float64, (
        f"minimize_lbfgs returned x as {type(x).__name__} {getattr(x, 'dtype', '')} of shape "
        f"{np.shape(x)}; expected a float64 NumPy array of shape {x0.shape}")
    assert n_iter < MAX_ITER, (
        f"Rosenbrock {name}: minimize_lbfgs used all {MAX_ITER} iterations; L-BFGS needs "
        "well under 100 here (steepest descent needs thousands): is the curvature history "
        "used, and the line search accepting the full step t = 1 when it is good enough?")
    gmax = float(np.abs(rosen_der(x)).max())
    assert gmax <= GRAD_MAX and float(np.abs(x - want).max()) <= X_ATOL, (
        f"Rosenbrock {name}: minimize_lbfgs stopped at {np.round(x, 6).tolist()} (max |grad| "
        f"{gmax:.2e}); scipy's L-BFGS-B finds {np.round(want, 6).tolist()} — expected within "
        f"{X_ATOL:g} and max |grad| ≤ {GRAD_MAX:g}")

"""Day 82: L-BFGS from scratch — the two-loop recursion and a minimiser built on it."""

import numpy as np  # noqa: F401  (the functions take and return float64 arrays)


def two_loop(g, s_list, y_list):
    """The L-BFGS search direction −H·g (float64 array, shape of g) from the stored pairs
    (oldest first), with H0 = γI, γ = sᵀy / yᵀy of the newest pair (1 without pairs).
    Does not modify its arguments."""
    # TODO: first loop, newest pair to oldest: alpha_i = rho_i · s_iᵀq, q −= alpha_i · y_i
    # TODO: scale by H0 = gamma · I
    # TODO: second loop, oldest to newest: beta = rho_i · y_iᵀr, r += (alpha_i − beta) · s_i
    raise NotImplementedError("two_loop")


def lbfgs_fixed_step(grad, x0, steps, history_size=10, lr=1.0):
    """`steps` iterations of L-BFGS without a line search, exactly as torch.optim.LBFGS
    (line_search_fn=None) takes them; returns the list of search directions, one per
    iteration."""
    # TODO: iteration 0: d = −g, step t = min(1, 1/‖g‖₁)·lr; later iterations: store the pair
    #       (s = t·d_prev, y = g − g_prev) when sᵀy > 1e-10 (keeping the newest history_size),
    #       d = two_loop(g, ...), t = lr; then x += t·d
    raise NotImplementedError("lbfgs_fixed_step")


def minimize_lbfgs(f, grad, x0, history_size=10, max_iter=1000, gtol=1e-8):
    """Minimise f from x0 with L-BFGS and a backtracking (Armijo) line search; returns
    (x, iterations used). Stops when max |grad| ≤ gtol or after max_iter iterations."""
    # TODO: direction from two_loop, try t = 1 and halve it until f drops enough (Armijo);
    #       store the pair (x_new − x, g_new − g) when its curvature is positive
    raise NotImplementedError("minimize_lbfgs")

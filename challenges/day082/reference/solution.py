"""Day 82 reference: L-BFGS from scratch — the two-loop recursion, the fixed-step iteration
of torch.optim.LBFGS, and a minimiser with a backtracking (Armijo) line search."""

import numpy as np


def two_loop(g, s_list, y_list):
    g = np.asarray(g, dtype=np.float64)
    q = g.copy()
    rho = [1.0 / float(y @ s) for s, y in zip(s_list, y_list, strict=True)]
    alpha = [0.0] * len(s_list)
    for i in range(len(s_list) - 1, -1, -1):  # newest pair first
        alpha[i] = rho[i] * float(s_list[i] @ q)
        q = q - alpha[i] * y_list[i]
    # H0 = gamma·I, scaled by the newest pair: the curvature seen along the last step
    gamma = float(s_list[-1] @ y_list[-1]) / float(y_list[-1] @ y_list[-1]) if s_list else 1.0
    r = gamma * q
    for i in range(len(s_list)):  # oldest pair first
        beta = rho[i] * float(y_list[i] @ r)
        r = r + (alpha[i] - beta) * s_list[i]
    return -r


def _push(s_list, y_list, s, y, history_size):
    if float(y @ s) > 1e-10:  # skip pairs without positive curvature: H must stay SPD
        s_list.append(s)
        y_list.append(y)
        if len(s_list) > history_size:
            s_list.pop(0)
            y_list.pop(0)


def lbfgs_fixed_step(grad, x0, steps, history_size=10, lr=1.0):
    x = np.array(x0, dtype=np.float64)
    s_list, y_list, dirs = [], [], []
    g_prev = d = t = None
    for k in range(steps):
        g = np.asarray(grad(x), dtype=np.float64)
        if k == 0:
            d = -g
            t = min(1.0, 1.0 / float(np.abs(g).sum())) * lr
        else:
            _push(s_list, y_list, t * d, g - g_prev, history_size)
            d = two_loop(g, s_list, y_list)
            t = lr
        dirs.append(d.copy())
        x = x + t * d
        g_prev = g
    return dirs


def minimize_lbfgs(f, grad, x0, history_size=10, max_iter=1000, gtol=1e-8):
    x = np.array(x0, dtype=np.float64)
    fx, g = float(f(x)), np.asarray(grad(x), dtype=np.float64)
    s_list, y_list = [], []
    for it in range(max_iter):
        if np.abs(g).max() <= gtol:
            return x, it
        d = two_loop(g, s_list, y_list)
        gd = float(g @ d)
        if gd >= 0:  # not a descent direction (numerical trouble): restart from -g
            s_list.clear()
            y_list.clear()
            d, gd = -g, -float(g @ g)
        t = 1.0 if s_list else min(1.0, 1.0 / float(np.abs(g).sum()))
        while True:  # backtracking until the Armijo condition holds
            x_new = x + t * d
            f_new = float(f(x_new))
            if f_new <= fx + 1e-4 * t * gd or t < 1e-16:
                break
            t *= 0.5
        g_new = np.asarray(grad(x_new), dtype=np.float64)
        _push(s_list, y_list, x_new - x, g_new - g, history_size)
        x, fx, g = x_new, f_new, g_new
    return x, max_iter

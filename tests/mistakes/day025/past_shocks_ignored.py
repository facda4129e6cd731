# mistake: forecast treats all past innovations as 0 (only the AR part uses the history)
# expect: 12-step forecast
import numpy as np
from scipy.optimize import minimize
from scipy.signal import lfilter


def _lagged(w, p, start):
    """Column i holds w_(t−i−1) for t = start .. n−1."""
    n = len(w)
    return np.column_stack([w[start - i - 1:n - i - 1] for i in range(p)]) if p else \
        np.empty((n - start, 0))


def fit_ar(x, p):
    """AR(p) by ordinary least squares on the lagged series, with an intercept."""
    x = np.asarray(x, dtype=float)
    design = np.column_stack([np.ones(len(x) - p), _lagged(x, p, p)])
    coef, *_ = np.linalg.lstsq(design, x[p:], rcond=None)
    resid = x[p:] - design @ coef
    return {"c": float(coef[0]), "phi": coef[1:], "sigma2": float(np.mean(resid ** 2))}


def residuals(w, c, phi, theta):
    """Innovations e_t of an ARMA(p, q), conditional on e_t = 0 before t = p (CSS)."""
    p = len(phi)
    u = w[p:] - c - _lagged(w, p, p) @ np.asarray(phi, dtype=float)
    # e_t + Σ theta_j e_(t−j) = u_t is an IIR filter with zero initial state
    return lfilter([1.0], np.r_[1.0, theta], u)


def _hannan_rissanen(w, p, q):
    """Starting values: innovations from a long AR, then one least-squares ARMA fit."""
    m = min(max(20, 2 * (p + q)), len(w) // 10)
    e = np.zeros(len(w))
    e[m:] = w[m:] - np.column_stack([np.ones(len(w) - m), _lagged(w, m, m)]) @ \
        fit_ar_coefficients(w, m)
    start = m + q
    design = np.column_stack([np.ones(len(w) - start), _lagged(w, p, start),
                              _lagged(e, q, start)])
    coef, *_ = np.linalg.lstsq(design, w[start:], rcond=None)
    return coef


def fit_ar_coefficients(w, p):
    fit = fit_ar(w, p)
    return np.r_[fit["c"], fit["phi"]]


def fit_arima(x, p, d, q):
    """ARIMA(p, d, q): difference d times, then ARMA(p, q) by conditional sum of squares."""
    w = np.diff(np.asarray(x, dtype=float), n=d)
    if q == 0:
        return {**fit_ar(w, p), "theta": np.zeros(0)}
    start = _hannan_rissanen(w, p, q)

    def css(params):
        with np.errstate(over="ignore", invalid="ignore"):
            e = residuals(w, params[0], params[1:1 + p], params[1 + p:])
            value = np.mean(e ** 2)
        return value if np.isfinite(value) else 1e100  # a non-invertible MA part blows up

    best = minimize(css, start, method="L-BFGS-B")
    c, phi, theta = best.x[0], best.x[1:1 + p], best.x[1 + p:]
    return {"c": float(c), "phi": phi, "theta": theta, "sigma2": float(best.fun)}


def fit_ma(x, q):
    """MA(q) with a mean: ARIMA(0, 0, q); c is the mean of the series."""
    return fit_arima(x, 0, 0, q)


def forecast(x, params, d, steps):
    """Forecasts of x for the next `steps` times, from an ARIMA(p, d, q) with `params`."""
    x = np.asarray(x, dtype=float)
    c, phi, theta = params["c"], np.asarray(params["phi"]), np.asarray(params["theta"])
    p, q = len(phi), len(theta)
    w = np.diff(x, n=d)
    e = np.zeros(len(w))
    history, shocks = list(w), list(e)
    for _ in range(steps):
        ar = sum(phi[i] * history[-1 - i] for i in range(p))
        ma = sum(theta[j] * shocks[-1 - j] for j in range(q))
        history.append(c + ar + ma)
        shocks.append(0.0)  # future innovations have expectation 0
    w_hat = np.array(history[len(w):])
    # undo the differencing, from the innermost level out: the last value of each level
    for level in range(d - 1, -1, -1):
        last = np.diff(x, n=level)[-1]
        w_hat = last + np.cumsum(w_hat)
    return w_hat

"""Day 25: AR, MA and ARIMA models by hand (numpy / scipy; no statsmodels).

Model of the d-times differenced series w = Δ^d x:
    w_t = c + Σ_(i=1..p) phi_i w_(t−i) + e_t + Σ_(j=1..q) theta_j e_(t−j),   e_t ~ N(0, sigma2)
Parameters are dicts {"c": float, "phi": array (p,), "theta": array (q,), "sigma2": float}.
"""

import numpy as np  # noqa: F401


def fit_ar(x, p):
    """Fit AR(p) to the 1-D array x; returns {"c", "phi", "sigma2"} ("theta" optional, empty)."""
    # TODO: least squares of x[p:] on a constant and the p lagged copies of x
    raise NotImplementedError("fit_ar")


def fit_ma(x, q):
    """Fit MA(q) with a mean to x; returns {"c" (the mean), "phi" (empty), "theta", "sigma2"}."""
    # TODO: minimise the conditional sum of squares of the innovations
    raise NotImplementedError("fit_ma")


def fit_arima(x, p, d, q):
    """Fit ARIMA(p, d, q): ARMA(p, q) on np.diff(x, n=d).

    Returns {"c", "phi", "theta", "sigma2"}.
    """
    # TODO
    raise NotImplementedError("fit_arima")


def forecast(x, params, d, steps):
    """Forecast x (the original, undifferenced series) for the next `steps` times.

    params: {"c", "phi", "theta", ...} of the ARMA on the d-times differenced series.
    Returns a float array of length steps: forecasts of x[n], ..., x[n + steps − 1].
    """
    # TODO: innovations of the history, the recursion forward, then undo the differencing
    raise NotImplementedError("forecast")

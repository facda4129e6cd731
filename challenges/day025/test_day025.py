"""Day 25 grader: AR, MA and ARIMA fitted to simulated processes, and their forecasts.

Oracles: the true coefficients of the processes simulated here (scipy.signal.lfilter of
seeded Gaussian noise), the forecast recursion written out here for known parameters, and
the naive random-walk forecast that a fitted ARIMA must beat.
"""

import numpy as np
import pytest
from scipy.signal import lfilter

from graders import expect, forbid

FORBIDDEN = ["statsmodels", "pmdarima", "arch", "sktime", "darts", "prophet"]


def simulate(phi=(), theta=(), n=3000, c=0.0, d=0, seed=0, burn_in=500):
    """w_t = c + Σ phi_i w_(t−i) + e_t + Σ theta_j e_(t−j), e ~ N(0, 1); x = Δ^-d w."""
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(n + burn_in)
    mean = c / (1.0 - np.sum(phi))
    w = lfilter(np.r_[1.0, theta], np.r_[1.0, -np.asarray(phi, dtype=float)], e)[burn_in:] + mean
    for _ in range(d):
        w = np.cumsum(w)
    return w


def oracle_forecast(x, c, phi, theta, d, steps):
    """The minimum-mean-squared-error forecast given the parameters (innovations e_t = 0
    before t = p, then recovered one by one from the differenced history)."""
    p, q = len(phi), len(theta)
    w = np.diff(x, n=d)
    e = np.zeros(len(w) + steps)
    ext = np.r_[w, np.zeros(steps)]
    for t in range(p, len(w) + steps):
        ar = sum(phi[i] * ext[t - 1 - i] for i in range(p))
        ma = sum(theta[j] * e[t - 1 - j] for j in range(q) if t - 1 - j >= 0)
        if t < len(w):
            e[t] = w[t] - c - ar - ma
        else:
            ext[t] = c + ar + ma  # future innovations are 0 in expectation
    out = ext[len(w):]
    for level in range(d - 1, -1, -1):
        out = np.diff(x, n=level)[-1] + np.cumsum(out)
    return out


def params_of(fit, what):
    assert isinstance(fit, dict) and {"c", "phi", "sigma2"} <= set(fit), (
        f"{what} must return a dict with keys 'c', 'phi', 'theta' (MA/ARIMA) and 'sigma2'")
    return fit


def check_coefficients(got, want, what, tol):
    got = expect.array(got, what)
    assert got.shape == (len(want),), f"{what} has shape {got.shape}, expected ({len(want)},)"
    err = np.abs(got - np.asarray(want, dtype=float))
    assert np.all(err <= tol), (
        f"{what} = {np.round(got, 3).tolist()}, the simulated process has "
        f"{list(want)} (allowed ±{tol}); coefficient i must multiply lag i+1")


def test_no_time_series_library(solution_dir):
    forbid.assert_not_used(solution_dir, FORBIDDEN, why="day 25 is AR/MA/ARIMA by hand")


# ---- fitting -----------------------------------------------------------------------------------

AR_CASES = {
    "AR(1) phi=0.8": ((0.8,), 0.0, 11),
    "AR(2) phi=(0.6, -0.3), c=1": ((0.6, -0.3), 1.0, 12),
    "AR(3) phi=(0.5, 0.2, -0.3), c=-2": ((0.5, 0.2, -0.3), -2.0, 13),
}


@pytest.mark.parametrize("name", list(AR_CASES))
def test_fit_ar_recovers_the_coefficients(solution, name):
    phi, c, seed = AR_CASES[name]
    x = simulate(phi=phi, c=c, seed=seed)
    fit = params_of(solution.fit_ar(x.copy(), len(phi)), "fit_ar")
    assert abs(float(fit["c"]) - c) <= 0.15, (
        f"{name}: intercept c = {float(fit['c']):.3f}, simulated with {c} (±0.15); note c is the "
        f"intercept, not the mean ({c / (1 - sum(phi)):.3f}): include a constant column")
    check_coefficients(fit["phi"], phi, f"{name}: fit_ar phi", 0.05)
    assert abs(float(fit["sigma2"]) - 1.0) <= 0.1, (
        f"{name}: sigma2 = {float(fit['sigma2']):.3f}, the noise variance is 1 (±0.1)")


def test_sigma2_is_a_variance_not_a_standard_deviation(solution):
    # the same processes with innovations of standard deviation 2: sigma2 is 4, not 2
    x = 2.0 * simulate(phi=(0.8,), c=0.0, seed=11)
    fit = params_of(solution.fit_ar(x.copy(), 1), "fit_ar")
    assert abs(float(fit["sigma2"]) - 4.0) <= 0.4, (
        f"AR(1) with innovations of sd 2: sigma2 = {float(fit['sigma2']):.3f}, expected 4 "
        "(±0.4): sigma2 is the variance of the innovations (mean squared residual), not their sd")
    x = 2.0 * simulate(theta=(0.5,), c=2.0, n=4000, seed=21)
    fit = params_of(solution.fit_ma(x.copy(), 1), "fit_ma")
    assert abs(float(fit["sigma2"]) - 4.0) <= 0.4, (
        f"MA(1) with innovations of sd 2: sigma2 = {float(fit['sigma2']):.3f}, expected 4 "
        "(±0.4): sigma2 is the variance of the innovations (mean squared residual), not their sd")


MA_CASES = {
    "MA(1) theta=0.5, mean 2": ((0.5,), 2.0, 21),
    "MA(2) theta=(0.5, -0.3)": ((0.5, -0.3), 0.0, 22),
}


@pytest.mark.parametrize("name", list(MA_CASES))
def test_fit_ma_recovers_the_coefficients(solution, name):
    theta, mean, seed = MA_CASES[name]
    x = simulate(theta=theta, c=mean, n=4000, seed=seed)
    fit = params_of(solution.fit_ma(x.copy(), len(theta)), "fit_ma")
    check_coefficients(fit.get("theta"), theta, f"{name}: fit_ma theta "
                       "(x_t = c + e_t + Σ theta_j e_(t−j): mind the sign)", 0.07)
    assert abs(float(fit["c"]) - mean) <= 0.1, (
        f"{name}: c = {float(fit['c']):.3f}, the series mean is {mean} (±0.1)")
    assert abs(float(fit["sigma2"]) - 1.0) <= 0.1, (
        f"{name}: sigma2 = {float(fit['sigma2']):.3f}, the noise variance is 1 (±0.1)")


ARIMA_CASES = {
    "ARIMA(1,1,1) phi=0.6 theta=0.3": ((0.6,), (0.3,), 1, 0.05, 31),
    "ARIMA(2,1,0) phi=(0.5, -0.2)": ((0.5, -0.2), (), 1, 0.0, 32),
    "ARIMA(0,1,1) theta=0.4": ((), (0.4,), 1, 0.1, 33),
    "ARIMA(1,0,1) phi=0.5 theta=0.4": ((0.5,), (0.4,), 0, 1.0, 34),
}


@pytest.mark.parametrize("name", list(ARIMA_CASES))
def test_fit_arima_recovers_the_coefficients(solution, name):
    phi, theta, d, c, seed = ARIMA_CASES[name]
    x = simulate(phi=phi, theta=theta, c=c, d=d, seed=seed)
    fit = params_of(solution.fit_arima(x.copy(), len(phi), d, len(theta)), "fit_arima")
    hint = " (difference the series d times first)" if d else ""
    check_coefficients(fit["phi"], phi, f"{name}: fit_arima phi{hint}", 0.08)
    check_coefficients(fit.get("theta"), theta, f"{name}: fit_arima theta{hint}", 0.08)
    assert abs(float(fit["c"]) - c) <= 0.15, (
        f"{name}: c = {float(fit['c']):.3f}, simulated with {c} (±0.15){hint}")


# ---- forecasting ---------------------------------------------------------------------------------

FORECAST_CASES = {
    "AR(2) c=1": ((0.6, -0.3), (), 0, 1.0),
    "ARMA(2,1) c=-0.5": ((0.5, -0.3), (0.4,), 0, -0.5),
    "ARIMA(1,1,0) c=0.2": ((0.7,), (), 1, 0.2),
    "ARIMA(1,1,1)": ((0.6,), (0.5,), 1, 0.0),
    "ARIMA(0,2,1)": ((), (0.4,), 2, 0.0),
}


@pytest.mark.parametrize("name", list(FORECAST_CASES))
def test_forecast_with_known_parameters_matches_the_recursion(solution, name):
    phi, theta, d, c = FORECAST_CASES[name]
    x = simulate(phi=phi, theta=theta, c=c, d=d, n=400, seed=40 + len(name))
    params = {"c": c, "phi": np.array(phi, dtype=float), "theta": np.array(theta, dtype=float),
              "sigma2": 1.0}
    got = solution.forecast(x.copy(), params, d, 12)
    want = oracle_forecast(x, c, np.array(phi), np.array(theta), d, 12)
    expect.close(got, want, what=f"{name}: 12-step forecast", rtol=1e-8,
                 atol=1e-8 * (1 + np.abs(x).max()),
                 oracle="the ARIMA forecast recursion (past innovations recovered from the "
                        "history, future ones 0, then the differencing undone from the last "
                        "observed values)")


def test_fitted_arima_forecasts_beat_the_naive_forecast(solution, record_metric):
    phi, theta, d, horizon = (0.7,), (0.4,), 1, 5
    x = simulate(phi=phi, theta=theta, d=d, n=3000, seed=50)
    fit = params_of(solution.fit_arima(x[:2000].copy(), 1, d, 1), "fit_arima")
    truth = {"c": 0.0, "phi": np.array(phi), "theta": np.array(theta), "sigma2": 1.0}
    errors, naive, best = [], [], []
    for origin in range(2000, 2900, 10):
        future = x[origin:origin + horizon]
        errors.append(np.asarray(solution.forecast(x[:origin].copy(), fit, d, horizon)) - future)
        naive.append(x[origin - 1] - future)
        best.append(oracle_forecast(x[:origin], 0.0, truth["phi"], truth["theta"], d, horizon)
                    - future)
    rmse = {k: float(np.sqrt(np.mean(np.square(v))))
            for k, v in (("fit", errors), ("naive", naive), ("best", best))}
    ratio = rmse["fit"] / rmse["naive"]
    record_metric("forecast RMSE / naive RMSE (h=1..5)", ratio, unit="x", target="<= 0.92")
    record_metric("forecast RMSE / true-parameter RMSE", rmse["fit"] / rmse["best"], unit="x",
                  target="<= 1.05")
    assert ratio <= 0.92, (
        f"your ARIMA(1,1,1) forecasts have RMSE {rmse['fit']:.3f}, the naive last-value "
        f"forecast {rmse['naive']:.3f} (ratio {ratio:.3f} > 0.92)")
    assert rmse["fit"] <= 1.05 * rmse["best"], (
        f"your forecasts' RMSE {rmse['fit']:.3f} is more than 5% above that of forecasts "
        f"with the true parameters ({rmse['best']:.3f})")

"""Day 6: simulate distributions; check expectation, variance and confidence intervals.

Allowed: numpy and scipy.stats quantile functions (stats.t.ppf, stats.norm.ppf,
stats.chi2.ppf). Forbidden: the ready-made intervals (stats.t.interval, stats.norm.interval,
stats.chi2.interval, stats.bootstrap, stats.bayes_mvs, ...).
"""

import numpy as np  # noqa: F401  (the starter leaves it unused until you write the code)
from scipy import stats  # noqa: F401


def mean_var(x):
    """(mean, variance) of a 1-D sample as floats; the variance divides by n - 1.

    Raises ValueError for fewer than 2 values.
    """
    # TODO
    raise NotImplementedError("mean_var")


def mean_ci(x, level=0.95, method="t"):
    """A two-sided confidence interval (lo, hi) for E[X] at confidence `level`.

    method "t": mean ± t_{n-1} quantile · s/√n; method "z": mean ± normal quantile · s/√n.
    Raises ValueError for a level outside (0, 1) or another method.
    """
    # TODO: which quantile leaves (1 - level)/2 in the upper tail?
    raise NotImplementedError("mean_ci")


def var_ci(x, level=0.95):
    """A two-sided confidence interval (lo, hi) for Var[X], assuming normal data (chi-square)."""
    # TODO: (n - 1) s² / σ² follows a chi-square distribution with n - 1 degrees of freedom
    raise NotImplementedError("var_ci")


def coverage(draw, interval, true_value, n, reps, seed=0):
    """The fraction of `reps` simulated samples whose interval contains true_value.

    draw(rng, n) returns a sample of size n; interval(x) returns (lo, hi).
    Protocol: rng = np.random.default_rng(seed) once, then `reps` times in order:
    x = draw(rng, n); lo, hi = interval(x); a hit when lo <= true_value <= hi.
    """
    # TODO
    raise NotImplementedError("coverage")

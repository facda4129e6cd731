# mistake: mean_ci calls scipy.stats.t.interval instead of building the interval
# expect: the spec forbids scipy.stats.t.interval
"""Day 6: sample mean and variance, CLT and t intervals, and their coverage."""

import math

import numpy as np
from scipy import stats


def _sample(x):
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or len(x) < 2:
        raise ValueError("need a 1-D sample of at least 2 values")
    return x


def _check_level(level):
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")


def mean_var(x):
    """The sample mean and the unbiased sample variance (denominator n − 1)."""
    x = _sample(x)
    mean = x.mean()
    return float(mean), float(np.sum((x - mean) ** 2) / (len(x) - 1))


def mean_ci(x, level=0.95, method="t"):
    """A two-sided `level` confidence interval for E[X]: mean ± q·s/√n."""
    x = _sample(x)
    _check_level(level)
    n = len(x)
    mean, var = mean_var(x)
    upper_tail = (1 + level) / 2  # two-sided: (1 − level)/2 of the mass in each tail
    if method == "t":
        return stats.t.interval(level, n - 1, loc=mean, scale=math.sqrt(var / n))
    elif method == "z":
        q = stats.norm.ppf(upper_tail)  # the CLT's normal approximation
    else:
        raise ValueError(f"method must be 't' or 'z', got {method!r}")
    half = q * math.sqrt(var / n)
    return mean - half, mean + half


def var_ci(x, level=0.95):
    """A `level` interval for Var[X] of normal data: (n−1)s²/χ² quantiles, upper then lower."""
    x = _sample(x)
    _check_level(level)
    n = len(x)
    _, var = mean_var(x)
    alpha = 1 - level
    # (n − 1)s²/σ² ~ χ²(n − 1): a large quantile gives the *lower* end for σ²
    lo = (n - 1) * var / stats.chi2.ppf(1 - alpha / 2, df=n - 1)
    hi = (n - 1) * var / stats.chi2.ppf(alpha / 2, df=n - 1)
    return lo, hi


def coverage(draw, interval, true_value, n, reps, seed=0):
    """The fraction of `reps` simulated samples whose interval contains `true_value`."""
    rng = np.random.default_rng(seed)  # one generator for the whole experiment
    hits = 0
    for _ in range(reps):
        lo, hi = interval(draw(rng, n))
        hits += lo <= true_value <= hi  # endpoints count as inside
    return hits / reps

"""Day 9: t-tests and chi-square tests from scratch.

Allowed: numpy and the distributions of scipy.stats (stats.t.sf / .cdf, stats.chi2.sf).
Forbidden: the ready-made tests (stats.ttest_*, stats.chisquare, stats.chi2_contingency,
stats.power_divergence, statsmodels).
Each alternative is one of "two-sided", "less", "greater" (H1: the mean is less / greater).
"""

import numpy as np  # noqa: F401  (the starter leaves it unused until you write the code)
from scipy import stats  # noqa: F401


def ttest_1samp(x, mu=0.0, alternative="two-sided"):
    """One-sample t-test of H0: E[X] = mu. Returns (t, p, df) as floats."""
    # TODO
    raise NotImplementedError("ttest_1samp")


def ttest_ind(x, y, equal_var=True, alternative="two-sided"):
    """Two-sample t-test of H0: E[X] = E[Y]; pooled variance if equal_var, else Welch's.
    Returns (t, p, df) as floats (df is fractional for Welch)."""
    # TODO
    raise NotImplementedError("ttest_ind")


def ttest_paired(x, y, alternative="two-sided"):
    """Paired t-test of H0: E[X - Y] = 0 for pairs (x[i], y[i]). Returns (t, p, df)."""
    # TODO
    raise NotImplementedError("ttest_paired")


def chi2_goodness(observed, expected=None, ddof=0):
    """Pearson's goodness-of-fit test of counts against expected counts (uniform if None).
    Returns (chi2, p, dof) with dof = k - 1 - ddof."""
    # TODO
    raise NotImplementedError("chi2_goodness")


def chi2_independence(table):
    """Pearson's test of independence of the rows and columns of a table of counts, without
    continuity (Yates) correction. Returns (chi2, p, dof, expected)."""
    # TODO
    raise NotImplementedError("chi2_independence")

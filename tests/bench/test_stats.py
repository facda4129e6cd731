"""The order statistics under the harness, checked against numpy and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from graders.bench_stats import (
    median_ci,
    min_samples_for_ci,
    nearest_rank,
    quantile,
    rel_iqr,
)

RNG = np.random.default_rng(5)


@pytest.mark.parametrize("n", [1, 2, 7, 100, 1001])
def test_quantiles_match_numpy(n):
    xs = RNG.lognormal(size=n).tolist()
    for q in (0.0, 0.25, 0.5, 0.75, 1.0):
        assert quantile(xs, q) == pytest.approx(np.quantile(xs, q), rel=1e-12)
    if n > 1:
        iqr = (np.quantile(xs, 0.75) - np.quantile(xs, 0.25)) / np.median(xs)
        assert rel_iqr(xs) == pytest.approx(iqr, rel=1e-12)


def test_tail_percentiles_are_nearest_rank_and_need_enough_samples():
    xs = list(range(1, 101))  # 1..100
    assert nearest_rank(xs, 90) == 90 and nearest_rank(xs, 99) == 99
    assert nearest_rank(xs[:99], 99) is None, "p99 of 99 samples would be the maximum"
    assert nearest_rank(xs[:9], 90) is None
    assert nearest_rank(xs[:10], 90) == 9
    assert np.percentile(xs, 90, method="inverted_cdf") == nearest_rank(xs, 90)


@pytest.mark.parametrize("n", [6, 7, 10, 25, 60, 200, 999])
def test_the_median_interval_has_the_coverage_it_claims_and_no_more_than_needed(n):
    xs = sorted(RNG.normal(size=n).tolist())
    low, high = median_ci(xs, 0.95)
    k = xs.index(low) + 1  # the interval is [x_(k), x_(n-k+1)]
    assert high == xs[n - k]
    coverage = 1 - 2 * binom.cdf(k - 1, n, 0.5)
    assert coverage >= 0.95
    tighter = 1 - 2 * binom.cdf(k, n, 0.5)
    assert tighter < 0.95 or k == n // 2, "a narrower interval would also have done"


def test_too_few_samples_give_no_interval():
    assert min_samples_for_ci(0.95) == 6
    assert median_ci([1.0] * 5, 0.95) is None
    assert median_ci([1.0] * 7, 0.99) is None and median_ci([1.0] * 8, 0.99) is not None


def test_the_interval_covers_the_true_median_about_as_often_as_claimed():
    """Simulation: skewed 'timings' with a known median."""
    rng = np.random.default_rng(11)
    true_median = math.exp(0.0)  # lognormal(0, 1)
    hits = 0
    trials = 2000
    for _ in range(trials):
        low, high = median_ci(rng.lognormal(size=30).tolist(), 0.95)
        hits += low <= true_median <= high
    assert 0.94 <= hits / trials <= 0.995

"""Day 8 grader: the Beta–Binomial conjugate model, checked against scipy.stats.beta and
scipy.stats.betabinom."""

import math

import numpy as np
import pytest
from scipy import optimize, stats

from graders import expect, forbid

BANNED = ["scipy.stats", "scipy.special.betaincinv", "scipy.special.betainccinv",
          "scipy.special.btdtri", "scipy.special.btdtria", "scipy.special.btdtrib",
          "scipy.special.bdtri", "statistics", "torch"]
INTERVAL_ATOL = 1e-8
HPD_ATOL = 1e-6

# (prior a, prior b, successes, trials): a uniform prior, an informative one, Jeffreys',
# no successes at all, and a lot of data
UPDATES = [(1, 1, 7, 20), (2, 8, 3, 5), (0.5, 0.5, 12, 40), (1, 1, 0, 10), (1, 1, 4000, 10000)]
SHAPES = [(8, 14), (5, 10), (12.5, 28.5), (1, 11), (4001, 6001), (2.5, 1.5)]


def pair(result, what):
    assert isinstance(result, tuple) and len(result) == 2, f"{what} must return a tuple of two"
    return tuple(float(v) for v in result)


def test_forbidden_routines_are_not_used(solution_dir):
    forbid.assert_not_used(solution_dir, BANNED,
                           why="scipy.stats is the oracle; invert the CDF yourself")


# ---- the update ---------------------------------------------------------------------------

@pytest.mark.parametrize("a,b,s,n", UPDATES)
def test_posterior_adds_successes_and_failures(solution, a, b, s, n):
    got = pair(solution.posterior(a, b, s, n), "posterior")
    want = (a + s, b + n - s)
    assert s == 0 or got != (a + s, b + n), (
        f"posterior({a}, {b}, successes={s}, trials={n}) returned {got}: b grows by the number "
        f"of failures (trials − successes = {n - s}), not by the trials")
    expect.close(got, want, what=f"posterior({a}, {b}, {s}, {n})", rtol=0, atol=1e-12,
                 oracle="Beta(a + successes, b + failures)")


def test_updating_twice_equals_updating_once(solution):
    a1, b1 = pair(solution.posterior(2, 3, 4, 10), "posterior")
    twice = pair(solution.posterior(a1, b1, 7, 9), "posterior")
    once = pair(solution.posterior(2, 3, 11, 19), "posterior")
    expect.close(twice, once, what="posterior after 4/10 then 7/9", rtol=0, atol=1e-12,
                 oracle="posterior after 11/19 at once")


@pytest.mark.parametrize("args,why", [((1, 1, 5, 3), "5 successes in 3 trials"),
                                      ((1, 1, -1, 3), "-1 successes"),
                                      ((0, 1, 1, 3), "a prior with a = 0")])
def test_impossible_updates_raise(solution, args, why):
    expect.raises(ValueError, solution.posterior, *args, what="posterior", why=why)


# ---- point summaries ----------------------------------------------------------------------

@pytest.mark.parametrize("a,b", SHAPES)
def test_posterior_mean(solution, a, b):
    got = solution.posterior_mean(a, b)
    if a > 1 and b > 1 and math.isclose(got, (a - 1) / (a + b - 2), rel_tol=1e-12):
        raise AssertionError(f"posterior_mean({a}, {b}) returned the mode (a − 1)/(a + b − 2); "
                             "the mean is a/(a + b)")
    expect.close(got, stats.beta.mean(a, b), what=f"posterior_mean({a}, {b})", rtol=1e-12,
                 atol=0, oracle="scipy.stats.beta.mean")


@pytest.mark.parametrize("a,b", [(8, 14), (5, 10), (4001, 6001), (2.5, 1.5)])
def test_posterior_mode_is_where_the_density_peaks(solution, a, b):
    got = float(solution.posterior_mode(a, b))
    peak = optimize.minimize_scalar(lambda p: -stats.beta.logpdf(p, a, b), bounds=(0, 1),
                                    method="bounded", options={"xatol": 1e-12}).x
    expect.close(got, peak, what=f"posterior_mode({a}, {b})", rtol=0, atol=1e-6,
                 oracle="the maximum of scipy.stats.beta.pdf")


@pytest.mark.parametrize("a,b", [(1, 11), (0.5, 3)])
def test_posterior_mode_needs_a_peak_inside(solution, a, b):
    expect.raises(ValueError, solution.posterior_mode, a, b, what="posterior_mode",
                  why=f"Beta({a}, {b}), whose density is largest at 0")


# ---- density ------------------------------------------------------------------------------

@pytest.mark.parametrize("a,b", SHAPES + [(0.5, 0.5), (1, 1)])
def test_beta_pdf_matches_scipy(solution, a, b):
    x = np.linspace(0.01, 0.99, 99)
    if a > 2000:
        x = np.linspace(0.37, 0.43, 61)  # where a Beta(4001, 6001) density lives
    try:
        got = solution.beta_pdf(x, a, b)
    except OverflowError:
        raise AssertionError(f"beta_pdf(x, {a}, {b}) overflowed: Γ({a}) is far beyond a float; "
                             "compute the log density (math.lgamma, scipy.special.betaln) "
                             "and exponentiate at the end") from None
    got = expect.array(got, "beta_pdf")
    assert np.all(np.isfinite(got)), (
        f"beta_pdf(x, {a}, {b}) has inf or NaN: for large a and b, Γ(a)Γ(b)/Γ(a + b) "
        "overflows; work with logarithms (betaln) and exponentiate at the end")
    expect.close(got, stats.beta.pdf(x, a, b), what=f"beta_pdf(x, {a}, {b})", rtol=1e-8,
                 atol=1e-300, oracle="scipy.stats.beta.pdf")


def test_beta_pdf_keeps_the_shape_of_x(solution):
    x = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    got = np.asarray(solution.beta_pdf(x, 3, 2))
    assert got.shape == (2, 3), (
        f"beta_pdf of a (2, 3) array returned shape {got.shape}: give back the shape of x")
    expect.close(got, stats.beta.pdf(x, 3, 2), what="beta_pdf of a (2, 3) array", rtol=1e-8,
                 atol=1e-300, oracle="scipy.stats.beta.pdf")


@pytest.mark.parametrize("a,b,level", [(1, 5, 0.95), (4, 1, 0.95), (1.0, 1.0, 0.5),
                                       (0.5, 3, 0.95)])
def test_hpd_interval_needs_a_peak_inside(solution, a, b, level):
    expect.raises(ValueError, solution.hpd_interval, a, b, level, what="hpd_interval",
                  why=f"Beta({a}, {b}), whose density has no peak strictly inside (0, 1)")


@pytest.mark.parametrize("name", ["credible_interval", "hpd_interval"])
@pytest.mark.parametrize("level", [0.0, 1.0, 1.5])
def test_intervals_need_a_level_in_the_open_unit_interval(solution, name, level):
    expect.raises(ValueError, getattr(solution, name), 8, 14, level, what=name,
                  why=f"level = {level} (the level must be in (0, 1))")


def test_beta_pdf_at_the_ends(solution):
    expect.close(solution.beta_pdf(np.array([0.0, 1.0]), 3, 2), [0.0, 0.0],
                 what="beta_pdf([0, 1], 3, 2)", rtol=0, atol=1e-12, oracle="scipy.stats.beta.pdf")
    expect.close(solution.beta_pdf(np.array([0.0, 1.0]), 1, 3), [3.0, 0.0],
                 what="beta_pdf([0, 1], 1, 3)", rtol=1e-12, atol=1e-12,
                 oracle="scipy.stats.beta.pdf")


# ---- intervals ----------------------------------------------------------------------------

@pytest.mark.parametrize("level", [0.95, 0.8])
@pytest.mark.parametrize("a,b", SHAPES + [(0.5, 0.5)])
def test_credible_interval_matches_scipy(solution, a, b, level):
    label = f"credible_interval({a}, {b}, level={level})"
    lo, hi = pair(solution.credible_interval(a, b, level), label)
    want = stats.beta.ppf([(1 - level) / 2, (1 + level) / 2], a, b)
    if not np.allclose([lo, hi], want, rtol=0, atol=INTERVAL_ATOL):
        mean, sd = stats.beta.mean(a, b), stats.beta.std(a, b)
        z = stats.norm.ppf((1 + level) / 2)
        if np.allclose([lo, hi], [mean - z * sd, mean + z * sd], rtol=0, atol=1e-6):
            raise AssertionError(
                f"{label} is the normal approximation mean ± z·sd ({lo:.4f}, {hi:.4f}); the "
                f"posterior is skewed, use its quantiles: ({want[0]:.4f}, {want[1]:.4f})")
        one_sided = stats.beta.ppf([1 - level, level], a, b)
        if np.allclose([lo, hi], one_sided, rtol=0, atol=1e-6):
            raise AssertionError(
                f"{label} leaves {1 - level:.0%} in each tail; an equal-tailed interval leaves "
                f"(1 − level)/2 = {(1 - level) / 2:.1%} below and above")
    expect.close([lo, hi], want, what=label, rtol=0, atol=INTERVAL_ATOL,
                 oracle="scipy.stats.beta.ppf")


def hpd_oracle(a, b, level):
    """Where the density is equal at both ends of an interval holding `level`."""
    def gap(t):
        lo, hi = stats.beta.ppf([t, t + level], a, b)
        return stats.beta.pdf(hi, a, b) - stats.beta.pdf(lo, a, b)

    t = optimize.brentq(gap, 1e-14, 1 - level - 1e-14, xtol=1e-15)
    return stats.beta.ppf([t, t + level], a, b)


@pytest.mark.parametrize("level", [0.95, 0.5])
@pytest.mark.parametrize("a,b", [(8, 14), (2.5, 1.5), (3, 30), (4001, 6001)])
def test_hpd_interval_is_the_shortest(solution, a, b, level):
    label = f"hpd_interval({a}, {b}, level={level})"
    lo, hi = pair(solution.hpd_interval(a, b, level), label)
    mass = stats.beta.cdf(hi, a, b) - stats.beta.cdf(lo, a, b)
    assert abs(mass - level) <= 1e-7, (
        f"{label} = ({lo:.6f}, {hi:.6f}) holds {mass:.8f} of the posterior, not {level}")
    equal_tailed = stats.beta.ppf([(1 - level) / 2, (1 + level) / 2], a, b)
    assert hi - lo <= equal_tailed[1] - equal_tailed[0] + 1e-12, (
        f"{label} has width {hi - lo:.6g}, wider than the equal-tailed interval "
        f"({equal_tailed[1] - equal_tailed[0]:.6g}); the highest-density interval is the "
        "shortest one holding that mass")
    expect.close([lo, hi], hpd_oracle(a, b, level), what=label, rtol=0, atol=HPD_ATOL,
                 oracle="the interval of equal density at both ends (scipy.stats.beta)")


# ---- prediction ---------------------------------------------------------------------------

@pytest.mark.parametrize("a,b,m", [(8, 14, 10), (1, 1, 5), (0.5, 0.5, 30), (4001, 6001, 50)])
def test_predictive_pmf_matches_betabinom(solution, a, b, m):
    got = expect.array(solution.predictive_pmf(a, b, m), "predictive_pmf")
    assert got.shape == (m + 1,), (
        f"predictive_pmf({a}, {b}, {m}) has shape {got.shape}, expected ({m + 1},): one "
        "probability for each k = 0..m")
    want = stats.betabinom.pmf(np.arange(m + 1), m, a, b)
    plug_in = stats.binom.pmf(np.arange(m + 1), m, a / (a + b))
    if a < 1000 and np.allclose(got, plug_in, rtol=1e-6, atol=1e-12):
        raise AssertionError(
            f"predictive_pmf({a}, {b}, {m}) is the Binomial with p = the posterior mean; the "
            "predictive averages the Binomial over the whole posterior (Beta-Binomial), so it "
            "is wider: C(m, k)·B(k + a, m − k + b)/B(a, b)")
    expect.close(got, want, what=f"predictive_pmf({a}, {b}, {m})", rtol=1e-8, atol=1e-15,
                 oracle="scipy.stats.betabinom.pmf")


def test_the_whole_story(solution, record_metric):
    """A new button: uniform prior, 7 clicks in 20 views."""
    a, b = pair(solution.posterior(1, 1, 7, 20), "posterior")
    lo, hi = pair(solution.credible_interval(a, b, 0.95), "credible_interval")
    record_metric("posterior mean click rate", solution.posterior_mean(a, b),
                  target=f"= {8 / 22:.4f}")
    record_metric("95% credible interval width", hi - lo,
                  target=f"= {np.diff(stats.beta.ppf([0.025, 0.975], 8, 14))[0]:.4f}")
    expect.close([lo, hi], stats.beta.ppf([0.025, 0.975], 8, 14),
                 what="the 95% interval after 7 clicks in 20 views", rtol=0,
                 atol=INTERVAL_ATOL, oracle="scipy.stats.beta.ppf")

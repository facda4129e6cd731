"""Day 6 grader: sample moments, t / z / chi-square intervals against scipy.stats, and the
coverage of those intervals over thousands of simulated samples."""

import math

import numpy as np
import pytest
from scipy import stats

from graders import expect, forbid

BANNED = ["scipy.stats.t.interval", "scipy.stats.norm.interval", "scipy.stats.chi2.interval",
          "scipy.stats.bootstrap", "scipy.stats.bayes_mvs", "scipy.stats.mvsdist",
          "scipy.stats.ttest_1samp", "statistics.NormalDist", "torch"]
RTOL = 1e-9


def sample(n, seed):
    return np.random.default_rng(seed).normal(10.0, 2.0, n)


def interval(result, what):
    assert isinstance(result, tuple) and len(result) == 2, f"{what} must return a tuple (lo, hi)"
    lo, hi = (float(v) for v in result)
    assert lo <= hi, f"{what} returned lo = {lo:.6g} > hi = {hi:.6g}"
    return lo, hi


def test_forbidden_routines_are_not_used(solution_dir):
    forbid.assert_not_used(solution_dir, BANNED,
                           why="build the intervals from quantiles (ppf) yourself")


# ---- moments ------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [2, 5, 1000])
def test_mean_and_unbiased_variance(solution, n):
    x = sample(n, n)
    result = solution.mean_var(x)
    assert isinstance(result, tuple) and len(result) == 2, "mean_var must return (mean, var)"
    mean, var = result
    expect.close(mean, x.mean(), what=f"the mean of {n} values", rtol=1e-12, atol=1e-12,
                 oracle="numpy.mean")
    if n < 1000 and math.isclose(var, np.var(x), rel_tol=1e-9):
        raise AssertionError(
            f"mean_var of {n} values returned the biased variance (divided by n = {n}); the "
            f"unbiased sample variance divides by n − 1 = {n - 1} (np.var(x, ddof=1))")
    expect.close(var, np.var(x, ddof=1), what=f"the variance of {n} values", rtol=1e-12,
                 atol=0, oracle="numpy.var(ddof=1)")


# ---- intervals against scipy ----------------------------------------------------------------

def diagnose_mean_ci(x, level, method, lo, hi):
    """Name the usual mistake behind a wrong interval, if it is one of them."""
    n, m = len(x), x.mean()
    half = (hi - lo) / 2
    se, se_biased = x.std(ddof=1) / math.sqrt(n), x.std() / math.sqrt(n)
    tq = stats.t.ppf((1 + level) / 2, n - 1)
    zq = stats.norm.ppf((1 + level) / 2)
    q = tq if method == "t" else zq
    if not math.isclose((lo + hi) / 2, m, rel_tol=1e-9, abs_tol=1e-12):
        return f"it is not centred on the sample mean {m:.6g}"
    candidates = {
        "it uses the biased standard deviation (divide by n − 1, not n)": q * se_biased,
        "it uses the normal quantile where method='t' asks for Student's t with n − 1 "
        "degrees of freedom": zq * se,
        "it uses Student's t where method='z' asks for the normal quantile": tq * se,
        "its t quantile has n degrees of freedom; the t interval has n − 1":
            stats.t.ppf((1 + level) / 2, n) * se,
        "it uses the quantile ppf(level), a one-sided bound; a two-sided interval puts "
        "(1 − level)/2 in each tail: ppf((1 + level)/2)":
            (stats.t.ppf(level, n - 1) if method == "t" else stats.norm.ppf(level)) * se,
        "it divides the standard deviation by n instead of √n": q * x.std(ddof=1) / n,
    }
    if math.isclose(half, 1.96 * se, rel_tol=1e-9):
        return ("it uses 1.96, a rounded 95% quantile: compute the quantile for `level`, "
                "norm.ppf((1 + level)/2)")
    if level != 0.95:
        candidates["it ignores `level` (this is the 95% interval)"] = (
            stats.t.ppf(0.975, n - 1) if method == "t" else stats.norm.ppf(0.975)) * se
    for why, wrong in candidates.items():
        if math.isclose(half, wrong, rel_tol=1e-4) and not math.isclose(half, q * se,
                                                                         rel_tol=1e-4):
            return why
    return ""


@pytest.mark.parametrize("n,level,method", [(3, 0.95, "t"), (10, 0.95, "t"), (30, 0.9, "t"),
                                            (10, 0.99, "t"), (200, 0.95, "z"), (8, 0.8, "z")])
def test_mean_ci_matches_scipy(solution, n, level, method):
    x = sample(n, 100 + n)
    label = f"mean_ci of {n} values (level={level}, method='{method}')"
    lo, hi = interval(solution.mean_ci(x, level, method), label)
    se = x.std(ddof=1) / math.sqrt(n)
    if method == "t":
        want = stats.t.interval(level, n - 1, loc=x.mean(), scale=se)
    else:
        want = stats.norm.interval(level, loc=x.mean(), scale=se)
    if not np.allclose([lo, hi], want, rtol=RTOL, atol=1e-12):
        why = diagnose_mean_ci(x, level, method, lo, hi)
        if why:
            (lo_got, lo_want), (hi_got, hi_want) = (expect.distinct(lo, want[0]),
                                                    expect.distinct(hi, want[1]))
            raise AssertionError(f"{label} is ({lo_got}, {hi_got}), expected "
                                 f"({lo_want}, {hi_want}): {why}")
    expect.close([lo, hi], want, what=label, rtol=RTOL, atol=1e-12,
                 oracle=f"scipy.stats.{method if method == 't' else 'norm'}.interval")


@pytest.mark.parametrize("n,level", [(5, 0.95), (20, 0.9), (100, 0.99)])
def test_var_ci_matches_scipy(solution, n, level):
    x = sample(n, 200 + n)
    label = f"var_ci of {n} values (level={level})"
    result = solution.var_ci(x, level)
    assert isinstance(result, tuple) and len(result) == 2, "var_ci must return (lo, hi)"
    lo, hi = (float(v) for v in result)
    s2 = x.var(ddof=1)
    q_lo, q_hi = stats.chi2.interval(level, n - 1)
    want = ((n - 1) * s2 / q_hi, (n - 1) * s2 / q_lo)
    assert lo <= hi, (
        f"{label} returned lo = {lo:.6g} > hi = {hi:.6g}: the *upper* χ² quantile gives the "
        "*lower* end of the interval for σ² (it sits in the denominator)")
    biased = ((n - 1) * x.var() / q_hi, (n - 1) * x.var() / q_lo)
    assert not np.allclose([lo, hi], biased, rtol=1e-9), (
        f"{label} uses the biased variance: (n − 1)·s² needs s² with denominator n − 1 "
        "(or write it as Σ(x − mean)²)")
    one_sided = ((n - 1) * s2 / stats.chi2.ppf(level, n - 1),
                 (n - 1) * s2 / stats.chi2.ppf(1 - level, n - 1))
    assert not np.allclose([lo, hi], one_sided, rtol=1e-9), (
        f"{label} uses the quantiles at level and 1 − level; a two-sided interval puts "
        "(1 − level)/2 in each tail")
    expect.close([lo, hi], want, what=label, rtol=RTOL, atol=0,
                 oracle="(n−1)s²/scipy.stats.chi2.ppf")


@pytest.mark.parametrize("name,args,why", [
    ("mean_var", ([1.0],), "a sample of one value"),
    ("mean_ci", ([1.0, 2.0, 3.0], 1.5), "level = 1.5"),
    ("mean_ci", ([1.0, 2.0, 3.0], 0.95, "bootstrap"), "method = 'bootstrap'"),
    ("var_ci", ([1.0, 2.0, 3.0], 0.0), "level = 0"),
    ("mean_ci", ([1.0, 2.0, 3.0], 1.0), "level = 1 (the level is in the open interval (0, 1))"),
    ("var_ci", ([1.0, 2.0, 3.0], 1.0), "level = 1 (the level is in the open interval (0, 1))"),
    ("mean_ci", ([1.0],), "a sample of one value"),
    ("var_ci", ([1.0],), "a sample of one value"),
])
def test_invalid_arguments_raise(solution, name, args, why):
    expect.raises(ValueError, getattr(solution, name), *args, what=name, why=why)


# ---- coverage over repeated samples ---------------------------------------------------------

def grader_coverage(draw, interval_fn, true_value, n, reps, seed):
    """The spec's protocol: one Generator(seed), `reps` draws in order, endpoints inside."""
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(reps):
        lo, hi = interval_fn(draw(rng, n))
        hits += lo <= true_value <= hi
    return hits / reps


def normal_2_3(rng, n):
    return rng.normal(2.0, 3.0, n)  # mean 2, variance 9


def exponential_2(rng, n):
    return rng.exponential(2.0, n)  # mean 2, variance 4, strongly skewed


COVERAGE_CASES = {
    "the t interval (95%) for the mean of 3 normal values":
        (normal_2_3, lambda S: lambda x: S.mean_ci(x, 0.95, "t"), 2.0, 3, 0.95, 0.016),
    "the t interval (90%) for the mean of 3 normal values":
        (normal_2_3, lambda S: lambda x: S.mean_ci(x, 0.90, "t"), 2.0, 3, 0.90, 0.02),
    "the z interval (95%) for the mean of 400 exponential values (CLT)":
        (exponential_2, lambda S: lambda x: S.mean_ci(x, 0.95, "z"), 2.0, 400, 0.95, 0.02),
    "the chi-square interval (95%) for the variance of 10 normal values":
        (normal_2_3, lambda S: lambda x: S.var_ci(x, 0.95), 9.0, 10, 0.95, 0.016),
}


@pytest.mark.parametrize("label", COVERAGE_CASES)
def test_intervals_cover_the_truth_at_their_level(solution, label, record_metric):
    draw, make, truth, n, nominal, tol = COVERAGE_CASES[label]
    reps = 2000
    got = grader_coverage(draw, make(solution), truth, n, reps, seed=6)
    record_metric(f"coverage: {label}", got, target=f"{nominal} ± {tol}")
    assert abs(got - nominal) <= tol, (
        f"{label} covered the true value in {got:.3f} of {reps} simulated samples; a "
        f"{nominal:.0%} interval should cover it in {nominal} ± {tol} (check the variance "
        "denominator, the quantile and its degrees of freedom)")


def test_coverage_follows_the_protocol(solution):
    se_interval = lambda x: stats.t.interval(  # noqa: E731  (an oracle interval)
        0.95, len(x) - 1, loc=x.mean(), scale=x.std(ddof=1) / math.sqrt(len(x)))
    for n, reps, seed in [(5, 300, 0), (12, 250, 42)]:
        got = solution.coverage(normal_2_3, se_interval, 2.0, n, reps, seed)
        want = grader_coverage(normal_2_3, se_interval, 2.0, n, reps, seed)
        assert isinstance(got, float), f"coverage must return a float, got {got!r}"
        if got in (0.0, 1.0):
            raise AssertionError(
                f"coverage(n={n}, reps={reps}, seed={seed}) returned {got}: every repetition "
                "gave the same answer. Create the Generator once, before the loop; re-seeding "
                "it in the loop repeats the same sample")
        assert math.isclose(got, want, rel_tol=1e-12), (
            f"coverage(n={n}, reps={reps}, seed={seed}) returned {got}, expected {want}: use "
            "rng = np.random.default_rng(seed) once, then draw(rng, n) `reps` times in order, "
            "and divide the hits by reps")


def test_coverage_counts_the_endpoints(solution):
    # the interval is [0, 0] when the first draw is positive: the truth 0 sits on both ends
    touching = lambda x: (0.0, 0.0) if x[0] > 0 else (1.0, 2.0)  # noqa: E731
    got = solution.coverage(normal_2_3, touching, 0.0, 4, 400, 3)
    want = grader_coverage(normal_2_3, touching, 0.0, 4, 400, 3)
    assert math.isclose(got, want, rel_tol=1e-12), (
        f"coverage returned {got}, expected {want}: an interval [lo, hi] contains the true "
        "value when lo <= value <= hi (endpoints included)")

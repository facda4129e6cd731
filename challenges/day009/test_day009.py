"""Day 9 grader: t-tests and chi-square tests, statistics and p-values checked against
scipy.stats (with correction=False for contingency tables: no Yates correction)."""

import math

import numpy as np
import pytest
from scipy import stats

from graders import expect, forbid

BANNED = ["scipy.stats.ttest_1samp", "scipy.stats.ttest_ind", "scipy.stats.ttest_rel",
          "scipy.stats.ttest_ind_from_stats", "scipy.stats.chisquare",
          "scipy.stats.chi2_contingency", "scipy.stats.power_divergence",
          "scipy.stats.contingency", "statsmodels", "pingouin", "torch"]
STAT_RTOL = 1e-10
P_RTOL = 1e-6
ALTERNATIVES = ["two-sided", "less", "greater"]

rng = np.random.default_rng(20240109)
ONE_SAMPLE = {  # label: (sample, mu)
    "15 values, mean above mu": (rng.normal(0.6, 1.0, 15), 0.0),
    "25 values, mean below mu": (rng.normal(9.5, 1.0, 25), 10.0),
    "40 values far above mu (p ~ 3e-17)": (rng.normal(2.0, 1.0, 40), 0.0),
}
SMALL_LOW_SPREAD, LARGE_HIGH_SPREAD = rng.normal(0.0, 1.0, 12), rng.normal(1.0, 3.0, 30)
BEFORE = rng.normal(100.0, 15.0, 20)
AFTER = BEFORE + rng.normal(2.0, 3.0, 20)


def triple(result, what):
    assert isinstance(result, tuple) and len(result) == 3, f"{what} must return (t, p, df)"
    assert isinstance(result[2], float), (
        f"{what} returned df = {result[2]!r} of type {type(result[2]).__name__}: the spec "
        "asks for df as a float (also when it is a whole number)")
    return tuple(float(v) for v in result)


def check_p(label, p, want, oracle):
    """Compare a p-value with scipy's, naming the loss of tiny tails to 1 − cdf."""
    assert 0 <= p <= 1, (f"the p-value of {label} is {p:.4g}, not a probability: for the "
                         "two-sided test use the tail beyond |t| (2·sf(|t|))")
    if want < 1e-12 and not math.isclose(p, want, rel_tol=P_RTOL) and abs(p - want) < 1e-15:
        raise AssertionError(
            f"the p-value of {label} is {p:.3g}, expected {want:.3g}: 1 − cdf(x) rounds tiny "
            "tail probabilities to 0 (or to a multiple of 1e-16); use the survival function "
            "sf(x), which computes the tail directly")
    expect.close(p, want, what=f"the p-value of {label}", rtol=P_RTOL, atol=1e-300,
                 oracle=oracle)


def check_t(label, got, want, alternative):
    """Compare (t, p, df) with scipy's result, naming the usual mistakes."""
    t, p, df = got
    expect.close(t, want.statistic, what=f"the t statistic of {label}", rtol=STAT_RTOL, atol=0,
                 oracle="scipy.stats")
    expect.close(df, want.df, what=f"the degrees of freedom of {label}", rtol=1e-10, atol=0,
                 oracle="scipy.stats")
    if not math.isclose(p, want.pvalue, rel_tol=P_RTOL):
        if math.isclose(p, want.pvalue / 2, rel_tol=P_RTOL):
            raise AssertionError(
                f"the p-value of {label} is half of scipy's {want.pvalue:.6g}: a two-sided "
                "test counts both tails, 2·sf(|t|)")
        if math.isclose(p, 1 - want.pvalue, rel_tol=P_RTOL, abs_tol=1e-12):
            raise AssertionError(
                f"the p-value of {label} ({alternative}) is 1 − scipy's {want.pvalue:.6g}: "
                "you took the other tail; 'greater' means H1: mean above, so p = sf(t), "
                "'less' means p = cdf(t)")
    check_p(label, p, want.pvalue, "scipy.stats")


def test_forbidden_routines_are_not_used(solution_dir):
    forbid.assert_not_used(solution_dir, BANNED,
                           why="compute the statistics yourself; only the distributions' "
                               "cdf/sf come from scipy.stats")


# ---- t-tests ------------------------------------------------------------------------------

@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("label", ONE_SAMPLE)
def test_one_sample_t_test(solution, label, alternative):
    x, mu = ONE_SAMPLE[label]
    got = triple(solution.ttest_1samp(x, mu, alternative), "ttest_1samp")
    want = stats.ttest_1samp(x, mu, alternative=alternative)
    if not math.isclose(got[0], want.statistic, rel_tol=1e-6):
        biased = (x.mean() - mu) / (x.std() / math.sqrt(len(x)))
        assert not math.isclose(got[0], biased, rel_tol=1e-9), (
            f"ttest_1samp on {label}: t uses the biased standard deviation; use ddof=1")
    check_t(f"ttest_1samp on {label} (alternative='{alternative}')", got, want, alternative)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("equal_var", [True, False], ids=["pooled", "welch"])
def test_two_sample_t_test(solution, equal_var, alternative):
    x, y = SMALL_LOW_SPREAD, LARGE_HIGH_SPREAD
    kind = "pooled (equal_var=True)" if equal_var else "Welch (equal_var=False)"
    label = f"the {kind} two-sample test of 12 and 30 values (alternative='{alternative}')"
    got = triple(solution.ttest_ind(x, y, equal_var, alternative), "ttest_ind")
    want = stats.ttest_ind(x, y, equal_var=equal_var, alternative=alternative)
    other = stats.ttest_ind(x, y, equal_var=not equal_var, alternative=alternative)
    if math.isclose(got[0], other.statistic, rel_tol=1e-9):
        raise AssertionError(
            f"{label}: t is the {'Welch' if equal_var else 'pooled'} statistic; "
            + ("pool the variances: s² = ((n₁−1)s₁² + (n₂−1)s₂²)/(n₁+n₂−2), se = s·√(1/n₁+1/n₂)"
               if equal_var else "Welch uses se = √(s₁²/n₁ + s₂²/n₂), no pooling"))
    if not equal_var and math.isclose(got[2], len(x) + len(y) - 2, rel_tol=1e-12):
        raise AssertionError(
            f"{label}: df = n₁ + n₂ − 2 = {len(x) + len(y) - 2} is the pooled test's; Welch's "
            f"test uses the Welch–Satterthwaite df ({want.df:.4f})")
    check_t(label, got, want, alternative)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_paired_t_test(solution, alternative):
    label = f"the paired test of 20 before/after pairs (alternative='{alternative}')"
    got = triple(solution.ttest_paired(AFTER, BEFORE, alternative), "ttest_paired")
    want = stats.ttest_rel(AFTER, BEFORE, alternative=alternative)
    independent = stats.ttest_ind(AFTER, BEFORE, alternative=alternative)
    if math.isclose(got[0], independent.statistic, rel_tol=1e-9):
        raise AssertionError(
            f"{label}: t treats the samples as independent ({independent.statistic:.3f}); "
            "paired data is the one-sample test of the differences after − before "
            f"(t = {want.statistic:.3f})")
    check_t(label, got, want, alternative)


@pytest.mark.parametrize("name,args,why", [
    ("ttest_1samp", ([1.0],), "a single value"),
    ("ttest_1samp", ([1.0, 2.0, 4.0], 0.0, "both"), "alternative='both'"),
    ("ttest_paired", ([1.0, 2.0, 3.0], [1.0, 2.0]), "samples of lengths 3 and 2"),
    ("ttest_ind", ([1.0, 2.0, 4.0], [2.0, 3.0, 7.0], True, "bigger"), "alternative='bigger'"),
    ("ttest_ind", ([1.0, 2.0, 4.0], [2.0, 3.0, 7.0], False, "two_sided"),
     "alternative='two_sided'"),
    ("ttest_paired", ([1.0, 2.0, 4.0], [2.0, 3.0, 7.0], "smaller"), "alternative='smaller'"),
])
def test_invalid_t_test_arguments_raise(solution, name, args, why):
    expect.raises(ValueError, getattr(solution, name), *args, what=name, why=why)


# ---- chi-square tests -----------------------------------------------------------------------

GOODNESS = {  # label: (observed, expected counts or None, ddof)
    "100 rolls of a die against a fair die": ([16, 18, 16, 14, 12, 24], None, 0),
    "counts 30, 50, 20 against 25, 50, 25": ([30, 50, 20], [25.0, 50.0, 25.0], 0),
    "counts against a fitted Poisson (ddof=1)": ([35, 40, 18, 7],
                                                 [36.79, 36.79, 18.39, 8.03], 1),
    "1000 draws against a skewed expectation (p ~ 4e-43)": ([400, 300, 200, 100],
                                                           [250.0, 250.0, 250.0, 250.0], 0),
}


@pytest.mark.parametrize("label", GOODNESS)
def test_chi2_goodness_of_fit(solution, label):
    observed, expected, ddof = GOODNESS[label]
    result = solution.chi2_goodness(observed, expected, ddof)
    assert isinstance(result, tuple) and len(result) == 3, (
        "chi2_goodness must return (chi2, p, dof)")
    chi2, p, dof = (float(v) for v in result)
    want = stats.chisquare(observed, expected, ddof=ddof)
    k = len(observed)
    expect.close(chi2, want.statistic, what=f"chi² of {label}", rtol=STAT_RTOL, atol=0,
                 oracle="scipy.stats.chisquare")
    assert dof == k - 1 - ddof, (
        f"chi2_goodness of {label} has dof {dof:g}; with {k} cells and ddof={ddof} "
        f"(parameters estimated from the data) it is k − 1 − ddof = {k - 1 - ddof}")
    check_p(label, p, want.pvalue, "scipy.stats.chisquare (the upper tail: chi2.sf)")


def test_chi2_goodness_rejects_different_totals(solution):
    expect.raises(ValueError, solution.chi2_goodness, [10, 20, 30], [20.0, 20.0, 10.0], 0,
                  what="chi2_goodness", why="observed total 60 and expected total 50")


TABLES = {
    "a 2x2 table [[12, 5], [7, 14]]": [[12, 5], [7, 14]],
    "a 2x3 table": [[20, 15, 25], [30, 35, 15]],
    "a 3x4 table": [[8, 12, 15, 10], [20, 9, 11, 14], [7, 16, 12, 18]],
}


@pytest.mark.parametrize("label", TABLES)
def test_chi2_test_of_independence(solution, label):
    table = np.array(TABLES[label])
    result = solution.chi2_independence(table)
    assert isinstance(result, tuple) and len(result) == 4, (
        "chi2_independence must return (chi2, p, dof, expected)")
    chi2, p, dof, expected = result
    want = stats.chi2_contingency(table, correction=False)
    yates = stats.chi2_contingency(table, correction=True)
    r, c = table.shape
    assert int(dof) == (r - 1) * (c - 1), (
        f"chi2_independence of {label} has dof {dof}; an r x c table has (r − 1)(c − 1) = "
        f"{(r - 1) * (c - 1)}")
    expect.close(expected, want.expected_freq, what=f"the expected counts of {label}",
                 rtol=1e-12, atol=0, oracle="row total × column total / grand total")
    if table.shape == (2, 2) and math.isclose(chi2, yates.statistic, rel_tol=1e-9):
        raise AssertionError(
            f"chi2_independence of {label} applied Yates' continuity correction "
            f"(chi² = {chi2:.4f}); the spec asks for the uncorrected Pearson statistic "
            f"({want.statistic:.4f}), as scipy's chi2_contingency(correction=False)")
    expect.close(chi2, want.statistic, what=f"chi² of {label}", rtol=STAT_RTOL, atol=0,
                 oracle="scipy.stats.chi2_contingency(correction=False)")
    check_p(label, p, want.pvalue, "scipy.stats.chi2_contingency(correction=False)")

"""Day 5 grader: samplers built from uniforms only, checked by goodness-of-fit tests
(scipy.stats) on three fixed seeds, by edge-case uniform streams, and by forbidding every
library sampler."""

import numpy as np
import pytest
from scipy import stats

from graders import expect, forbid
from graders.forbid import ForbiddenCall

BANNED = ["numpy.random", "random", "scipy", "statistics", "torch", "secrets"]
SEEDS = (101, 202, 303)
ALPHA = 1e-3  # a test fails when p < ALPHA on at least two of the three seeds


class Uniforms:
    """The only randomness a sampler gets: `random(size)`, as numpy's Generator.random."""

    def __init__(self, seed):
        self._generator = np.random.default_rng(seed)

    def random(self, size=None):
        return self._generator.random(size)

    def __getattr__(self, name):
        raise ForbiddenCall(f"rng.{name}() was called, but the spec allows only rng.random(): "
                            "build every distribution from uniforms yourself")


class EdgeUniforms(Uniforms):
    """A stream of legal but awkward uniforms: exactly 0.0 and the largest float below 1."""

    CYCLE = np.array([0.0, 1 - 2.0**-53, 0.5, 0.25, 1 - 2.0**-53, 0.0, 0.75, 2.0**-53])

    def __init__(self):
        self._next = 0

    def random(self, size=None):
        count = 1 if size is None else int(np.prod(size))
        idx = (self._next + np.arange(count)) % len(self.CYCLE)
        self._next += count
        values = self.CYCLE[idx]
        return float(values[0]) if size is None else values.reshape(size)


def draw(fn, rng, *args):
    """Call a sampler with numpy's samplers disabled (should one slip past the source check)."""
    with forbid.calls("numpy.random.normal", "numpy.random.binomial", "numpy.random.rand",
                      "numpy.random.standard_normal", "numpy.random.default_rng"):
        return fn(rng, *args)


def integer_array(x, what, shape):
    x = np.asarray(x)
    assert x.shape == shape, f"{what} has shape {x.shape}, expected {shape}"
    assert np.issubdtype(x.dtype, np.integer), (
        f"{what} has dtype {x.dtype}; return integers (e.g. .astype(np.int64)), not "
        f"{'booleans' if x.dtype == bool else x.dtype}")
    return x


def settled(pvalues):
    """True once two seeds have failed: the third cannot change the verdict."""
    return sum(p < ALPHA for p in pvalues) >= 2


def verdict(label, pvalues, detail):
    shown = ", ".join(f"{p:.1e}" for p in pvalues)
    assert not settled(pvalues), (
        f"{label} does not follow its distribution: goodness-of-fit p-values {shown} on seeds "
        f"{', '.join(map(str, SEEDS[:len(pvalues)]))} (fails when p < {ALPHA} on two of "
        f"three); {detail}")


def chi2_counts(values, probabilities):
    """Chi-square test of integer values against a pmf over 0..len-1, merging sparse cells."""
    observed = np.bincount(values, minlength=len(probabilities)).astype(float)
    expected = probabilities * len(values)
    obs, exp, acc_o, acc_e = [], [], 0.0, 0.0
    for o, e in zip(observed, expected, strict=True):
        acc_o, acc_e = acc_o + o, acc_e + e
        if acc_e >= 20:
            obs.append(acc_o)
            exp.append(acc_e)
            acc_o = acc_e = 0.0
    obs[-1] += acc_o
    exp[-1] += acc_e
    return stats.chisquare(obs, exp).pvalue


def test_forbidden_samplers_are_not_used(solution_dir):
    forbid.assert_not_used(solution_dir, BANNED,
                           why="every random value must come from rng.random()")


# ---- Bernoulli ----------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.3, 0.01, 0.5])
def test_bernoulli_frequencies(solution, p):
    size = 100_000
    pvalues, means = [], []
    for seed in SEEDS:
        x = integer_array(draw(solution.bernoulli, Uniforms(seed), p, size),
                          f"bernoulli(rng, {p}, {size})", (size,))
        assert set(np.unique(x)) <= {0, 1}, "bernoulli returned values other than 0 and 1"
        ones = int(x.sum())
        pvalues.append(stats.binomtest(ones, size, p).pvalue)
        means.append(ones / size)
        if settled(pvalues):
            break
    verdict(f"bernoulli(p={p})", pvalues,
            f"frequency of 1s: {', '.join(f'{m:.4f}' for m in means)}, expected {p}")


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_bernoulli_certain_outcomes(solution, p):
    x = integer_array(draw(solution.bernoulli, EdgeUniforms(), p, 64),
                      "bernoulli", (64,))
    assert np.all(x == p), (
        f"bernoulli(p={p}) returned a {1 - int(p)} when rng.random() gave "
        f"{'0.0' if p == 0 else '1 − 2⁻⁵³'}: with u in [0, 1), return 1 exactly when u < p")


# ---- Binomial -----------------------------------------------------------------------------

@pytest.mark.parametrize("n,p,size", [(20, 0.3, 50_000), (5, 0.5, 50_000), (1, 0.7, 50_000),
                                      (500, 0.02, 4_000)])
def test_binomial_distribution(solution, n, p, size):
    pvalues, means = [], []
    pmf = stats.binom.pmf(np.arange(n + 1), n, p)
    for seed in SEEDS:
        x = integer_array(draw(solution.binomial, Uniforms(seed), n, p, size),
                          f"binomial(rng, {n}, {p}, {size})", (size,))
        assert x.min() >= 0 and x.max() <= n, (
            f"binomial(n={n}) returned {x.min() if x.min() < 0 else x.max()}, outside 0..{n}")
        pvalues.append(chi2_counts(x, pmf))
        means.append(x.mean())
        if settled(pvalues):
            break
    verdict(f"binomial(n={n}, p={p})", pvalues,
            f"sample means {', '.join(f'{m:.3f}' for m in means)}, expected n·p = {n * p:g}")


def test_binomial_stays_in_range_on_edge_uniforms(solution):
    for n, p in [(10, 0.3), (8, 0.7), (7, 0.05), (7, 0.0), (7, 1.0)]:
        x = integer_array(draw(solution.binomial, EdgeUniforms(), n, p, 40),
                          "binomial", (40,))
        assert x.min() >= 0 and x.max() <= n, (
            f"binomial(n={n}, p={p}) returned {x.max() if x.max() > n else x.min()} when "
            f"rng.random() gave 0.0 or 1 − 2⁻⁵³: values must stay in 0..{n} (an inverse-CDF "
            "loop must stop at n even if rounding leaves the cumulative sum below u)")
        if p in (0.0, 1.0):
            assert np.all(x == n * p), f"binomial(n={n}, p={p}) must always return {int(n * p)}"


def test_binomial_with_zero_trials(solution):
    x = integer_array(draw(solution.binomial, Uniforms(1), 0, 0.4, 10),
                      "binomial(rng, 0, 0.4, 10)", (10,))
    assert np.all(x == 0), "binomial with n = 0 trials must return 0"


# ---- Gaussian -----------------------------------------------------------------------------

EDGES = np.array([-np.inf, -3.5, -3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5,
                  np.inf])


@pytest.mark.parametrize("mu,sigma", [(0.0, 1.0), (1.5, 2.0), (-3.0, 0.5)])
def test_gaussian_distribution(solution, mu, sigma):
    size = 400_000
    pvalues, moments = [], []
    for seed in SEEDS:
        x = expect.array(draw(solution.gaussian, Uniforms(seed), mu, sigma, size), "gaussian")
        assert x.shape == (size,), f"gaussian(rng, {mu}, {sigma}, {size}) has shape {x.shape}"
        assert np.all(np.isfinite(x)), "gaussian returned inf or NaN"
        z = (x - mu) / sigma
        # KS sees the bulk; the binned test sees the tails (|z| > 3), where approximations fail
        ks = stats.kstest(z, "norm", method="asymp").pvalue
        observed = np.histogram(z, EDGES)[0]
        binned = stats.chisquare(observed, np.diff(stats.norm.cdf(EDGES)) * size).pvalue
        pvalues.append(min(1.0, 2 * min(ks, binned)))
        moments.append((x.mean(), x.std(), np.mean(np.abs(z) > 3.5) * 1e4))
        if settled(pvalues):
            break
    m, s, tail = moments[0]
    verdict(f"gaussian(mu={mu}, sigma={sigma})", pvalues,
            f"seed {SEEDS[0]} gave mean {m:.3f}, sd {s:.3f}, {tail:.1f} per 10⁴ beyond 3.5 sd; "
            f"expected mean {mu}, sd {sigma} (sigma is the standard deviation), "
            f"{2 * stats.norm.sf(3.5) * 1e4:.1f} per 10⁴ beyond 3.5 sd")


def test_gaussian_is_finite_on_edge_uniforms(solution):
    x = expect.array(draw(solution.gaussian, EdgeUniforms(), 0.0, 1.0, 64), "gaussian")
    assert np.all(np.isfinite(x)), (
        "gaussian returned inf or NaN when rng.random() gave exactly 0.0 (or 1 − 2⁻⁵³): "
        "log(u) is −inf at u = 0; use log(1 − u), which is finite because u < 1")


@pytest.mark.parametrize("size", [7, (3, 4), (2, 3, 5)], ids=["odd", "2-d", "3-d"])
def test_shapes(solution, size):
    shape = (size,) if isinstance(size, int) else size
    integer_array(draw(solution.bernoulli, Uniforms(2), 0.5, size),
                  f"bernoulli(rng, 0.5, {size})", shape)
    integer_array(draw(solution.binomial, Uniforms(3), 4, 0.5, size),
                  f"binomial(rng, 4, 0.5, {size})", shape)
    x = expect.array(draw(solution.gaussian, Uniforms(4), 0.0, 1.0, size),
                     "gaussian")
    assert x.shape == shape, f"gaussian(rng, 0, 1, {size}) has shape {x.shape}, expected {shape}"
    dtype = np.asarray(draw(solution.gaussian, Uniforms(4), 0.0, 1.0, size)).dtype
    assert dtype == np.float64, f"gaussian returned dtype {dtype}; the spec asks for float64"


def test_gaussian_with_zero_sigma_is_constant(solution):
    try:
        x = expect.array(draw(solution.gaussian, Uniforms(5), 1.5, 0.0, 6), "gaussian")
    except ValueError as e:
        raise AssertionError(f"gaussian(rng, 1.5, 0.0, 6) raised ValueError ({e}): sigma = 0 "
                             "is allowed, only sigma < 0 raises") from None
    assert np.all(x == 1.5), (
        f"gaussian(rng, 1.5, 0.0, 6) gave {x}: sigma = 0 is allowed (only sigma < 0 raises) "
        "and every value is then mu")


def test_randomness_comes_from_rng(solution):
    for name, args in [("bernoulli", (0.5, 200)), ("binomial", (10, 0.5, 200)),
                       ("gaussian", (0.0, 1.0, 200))]:
        fn = getattr(solution, name)
        a, b = np.asarray(fn(Uniforms(7), *args)), np.asarray(fn(Uniforms(7), *args))
        c = np.asarray(fn(Uniforms(8), *args))
        assert np.array_equal(a, b), f"{name} gave different values for the same uniforms"
        assert not np.array_equal(a, c), f"{name} ignores rng: two seeds gave the same values"
        rng = Uniforms(9)
        assert not np.array_equal(np.asarray(fn(rng, *args)), np.asarray(fn(rng, *args))), (
            f"two calls of {name} on one rng returned the same values: draw fresh uniforms")


@pytest.mark.parametrize("name,args,why", [
    ("bernoulli", (1.5, 3), "p = 1.5"), ("bernoulli", (-0.1, 3), "p = -0.1"),
    ("binomial", (-1, 0.5, 3), "n = -1"), ("binomial", (5, 2.0, 3), "p = 2"),
    ("binomial", (2.5, 0.5, 3), "n = 2.5 (not an integer: int(n) would truncate it)"),
    ("binomial", (3.0, 0.5, 3), "n = 3.0 (a float, not an int)"),
    ("gaussian", (0.0, -1.0, 3), "sigma = -1"),
])
def test_invalid_parameters_raise(solution, name, args, why):
    expect.raises(ValueError, getattr(solution, name), Uniforms(0), *args, what=name, why=why)

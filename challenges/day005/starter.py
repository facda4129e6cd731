"""Day 5: Bernoulli, Binomial and Gaussian samplers built from uniforms only.

`rng` is a source of uniforms: rng.random(size) returns floats in [0, 1) (0.0 included),
like numpy's Generator.random. It is the only randomness you may use: no numpy.random,
no random module, no scipy, no statistics.
"""

import numpy as np  # noqa: F401  (the starter leaves it unused until you write the code)


def bernoulli(rng, p, size):
    """An integer array of shape `size` (an int or a tuple): 1 with probability p, else 0.

    Raises ValueError unless 0 <= p <= 1.
    """
    # TODO: compare uniforms with p
    raise NotImplementedError("bernoulli")


def binomial(rng, n, p, size):
    """An integer array of shape `size`: successes in n independent Bernoulli(p) trials.

    Raises ValueError unless n is an integer >= 0 and 0 <= p <= 1.
    """
    # TODO: count successes among n trials for every value
    raise NotImplementedError("binomial")


def gaussian(rng, mu, sigma, size):
    """A float array of shape `size` from Normal(mu, sigma**2); sigma is the standard deviation.

    Raises ValueError if sigma < 0.
    """
    # TODO: Box–Muller (or another exact method) from pairs of uniforms
    raise NotImplementedError("gaussian")

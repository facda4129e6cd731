# mistake: binomial hands the work to numpy's sampler
# expect: the spec forbids numpy.random
"""Day 5: Bernoulli, Binomial and Gaussian samplers built from uniforms only."""

import math

import numpy as np


def _shape(size):
    return (size,) if isinstance(size, (int, np.integer)) else tuple(size)


def _check_p(p):
    if not 0 <= p <= 1:
        raise ValueError(f"p must be in [0, 1], got {p}")


def bernoulli(rng, p, size):
    """1 with probability p, else 0: an integer array of shape `size`."""
    _check_p(p)
    # P(u < p) = p for u uniform on [0, 1); `<` keeps p = 0 at 0 even when u is exactly 0.0
    return (rng.random(_shape(size)) < p).astype(np.int64)


def binomial(rng, n, p, size):
    """The number of successes in n Bernoulli(p) trials: integers in 0..n, shape `size`."""
    _check_p(p)
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    shape = _shape(size)
    # one uniform per trial: n of them for every value drawn
    return np.random.binomial(n, p, size=shape)


def gaussian(rng, mu, sigma, size):
    """Normal(mu, sigma²) values (sigma is the standard deviation) by the Box–Muller transform."""
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    shape = _shape(size)
    count = math.prod(shape)
    half = (count + 1) // 2
    u1, u2 = rng.random(half), rng.random(half)
    # log(1 − u1) is finite because u1 < 1; log(u1) would be −inf when u1 is exactly 0.0
    radius = np.sqrt(-2.0 * np.log1p(-u1))
    angle = 2.0 * np.pi * u2
    # the two coordinates of one point are independent standard normals: use both
    z = np.concatenate([radius * np.cos(angle), radius * np.sin(angle)])[:count]
    return mu + sigma * z.reshape(shape)

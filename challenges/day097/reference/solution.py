"""Day 97 reference: hardware-aware NAS — count a CNN's MACs, fit a latency model on measured
architectures, and search for the most accurate architecture within a latency budget."""

import itertools

import numpy as np


def conv_macs(arch):
    """Multiply-accumulates of one 8×8 image: k²·c_in·w per output pixel of each conv (64
    pixels, padding keeps the size), then the Linear(w·16 → 10)."""
    d, w, k = arch["depth"], arch["width"], arch["kernel"]
    macs, c_in = 0, 1
    for _ in range(d):
        macs += 64 * k * k * c_in * w
        c_in = w
    return macs + w * 16 * 10


def features(arch):
    """(1, depth, depth·[k = 5], depth·width, MACs in millions): a fixed cost per call, a cost
    per layer that depends on the kernel size (the library picks another algorithm for 5×5),
    memory traffic (every conv writes width·64 values per image) and arithmetic."""
    d, w, k = arch["depth"], arch["width"], arch["kernel"]
    return [1.0, float(d), float(d * (k == 5)), float(d * w), conv_macs(arch) / 1e6]


def fit_latency_model(archs, latencies_ms):
    X = np.array([features(a) for a in archs], dtype=np.float64)
    y = np.asarray(latencies_ms, dtype=np.float64)
    # least squares of the RELATIVE error, sum ((x·coef − y) / y)²: latencies span several
    # fold, and plain least squares would favour the slow nets over the fast ones
    coef, *_ = np.linalg.lstsq(X / y[:, None], np.ones_like(y), rcond=None)

    def predict(arch):
        return float(np.dot(features(arch), coef))

    return predict


def search(space, accuracy, predict_ms, budget_ms):
    best = None
    for values in itertools.product(*space.values()):
        arch = dict(zip(space, values, strict=True))
        latency = predict_ms(arch)
        if latency > budget_ms:  # the hard constraint: over budget is never chosen
            continue
        acc = accuracy(arch)
        # higher accuracy first, then lower latency; strict comparison keeps the first of ties
        if best is None or (acc, -latency) > (best[1], -best[2]):
            best = (arch, acc, latency)
    if best is None:
        raise ValueError(f"no architecture is predicted to run within {budget_ms} ms")
    return best

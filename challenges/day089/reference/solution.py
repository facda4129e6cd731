"""Day 89 reference: a small CNN search space and successive halving under an epoch budget."""

import itertools
import math
import random

from torch import nn

FIDELITIES = (1, 3, 9)


def build_cnn(arch):
    layers = []
    c_in, k = 1, arch["kernel"]
    for _ in range(arch["depth"]):
        layers += [nn.Conv2d(c_in, arch["width"], k, padding=k // 2), nn.ReLU()]
        c_in = arch["width"]
    layers += [nn.MaxPool2d(2), nn.Flatten(), nn.Linear(arch["width"] * 16, 10)]
    return nn.Sequential(*layers)


def rung_sizes(n0, eta=3):
    sizes = [n0]
    for _ in FIDELITIES[1:]:
        sizes.append(math.ceil(sizes[-1] / eta))
    return sizes


def halving_cost(n0, eta=3):
    return sum(n * e for n, e in zip(rung_sizes(n0, eta), FIDELITIES, strict=True))


def successive_halving(space, evaluate, budget, seed=0):
    eta = 3
    archs = [dict(zip(space, values, strict=True)) for values in itertools.product(*space.values())]
    n0 = max((n for n in range(1, len(archs) + 1) if halving_cost(n, eta) <= budget), default=0)
    if n0 == 0:
        raise ValueError(f"a budget of {budget} epochs cannot pay for one full bracket")
    rng = random.Random(seed)
    rung = rng.sample(archs, n0)
    history = []
    for size, epochs in zip(rung_sizes(n0, eta), FIDELITIES, strict=True):
        rung = rung[:size]
        scored = []
        for arch in rung:
            score = evaluate(arch, epochs)
            history.append((dict(arch), epochs, score))
            scored.append((score, arch))
        scored.sort(key=lambda t: -t[0])  # stable: ties keep their evaluation order
        rung = [arch for _, arch in scored]
    best_score, best_arch = scored[0]
    return dict(best_arch), best_score, history

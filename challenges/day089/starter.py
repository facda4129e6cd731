"""Day 89: neural architecture search on a small CNN — the CNN of an architecture, and
successive halving under a budget of training epochs."""

import itertools  # noqa: F401  (the starter leaves these unused until you write the code)
import math  # noqa: F401
import random  # noqa: F401

from torch import nn  # noqa: F401

FIDELITIES = (1, 3, 9)  # the epoch counts evaluate accepts; promotion keeps the top third


def build_cnn(arch):
    """The CNN of `arch` = {"depth", "width", "kernel", "lr"} for (N, 1, 8, 8) digits:
    `depth` × [Conv2d(→ width, kernel, padding kernel // 2), ReLU], MaxPool2d(2), Flatten,
    Linear(width·16 → 10); layers created in that order."""
    # TODO: see the spec for the exact layers
    raise NotImplementedError("build_cnn")


def successive_halving(space, evaluate, budget, seed=0):
    """Successive halving over every architecture of `space` ({name: [options]}):
    evaluate(arch, epochs) costs `epochs` of the budget. Returns (best_arch, best_score,
    history) with history = [(arch, epochs, score), ...], one entry per call, in order."""
    # TODO: n0 = the largest number of architectures whose whole bracket
    #       n0·1 + ⌈n0/3⌉·3 + ⌈n1/3⌉·9 fits the budget (ValueError if not even one)
    # TODO: sample n0 distinct architectures with random.Random(seed); evaluate each at 1 epoch
    # TODO: promote the best third (rounded up) to 3 epochs, then to 9; the answer is the best
    #       of the 9-epoch rung
    raise NotImplementedError("successive_halving")

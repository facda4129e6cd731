"""Day 59 reference: random search and regularised (aging) evolution over a discrete
architecture space, each within a budget of evaluations."""

import random
from collections import deque


def sample(space: dict, rng: random.Random) -> dict:
    return {name: rng.choice(options) for name, options in space.items()}


def mutate(arch: dict, space: dict, rng: random.Random) -> dict:
    """A copy of `arch` with one choice (among those that have alternatives) changed."""
    names = [n for n, options in space.items() if len(options) > 1]
    name = rng.choice(names)
    child = dict(arch)
    child[name] = rng.choice([o for o in space[name] if o != arch[name]])
    return child


def _best(history):
    return max(history, key=lambda pair: pair[1])  # first of the best on ties


def random_search(space, evaluate, budget, seed=0):
    rng = random.Random(seed)
    history = []
    for _ in range(budget):
        arch = sample(space, rng)
        history.append((arch, evaluate(arch)))
    best, score = _best(history)
    return best, score, history


def evolutionary_search(space, evaluate, budget, seed=0, population=10, sample_size=3):
    """Regularised evolution (Real et al., 2019): a random initial population, then
    repeatedly the best of a random sample becomes a parent, its mutated child joins the
    population and the oldest member leaves."""
    rng = random.Random(seed)
    history = []
    alive = deque()
    for _ in range(min(population, budget)):
        arch = sample(space, rng)
        pair = (arch, evaluate(arch))
        history.append(pair)
        alive.append(pair)
    while len(history) < budget:
        parent = _best(rng.sample(list(alive), min(sample_size, len(alive))))
        child = mutate(parent[0], space, rng)
        pair = (child, evaluate(child))
        history.append(pair)
        alive.append(pair)
        alive.popleft()  # aging: the oldest goes, however good it was
    best, score = _best(history)
    return best, score, history

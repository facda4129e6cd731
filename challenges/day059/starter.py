"""Day 59: neural architecture search basics — random search and evolution under a budget."""

import random


def mutate(arch: dict, space: dict, rng: random.Random) -> dict:
    """A copy of `arch` with exactly one choice changed to another option of `space`."""
    raise NotImplementedError("mutate")


def random_search(space: dict, evaluate, budget: int, seed: int = 0
                  ) -> tuple[dict, float, list[tuple[dict, float]]]:
    """Evaluate `budget` architectures drawn uniformly from `space`.
    Returns (best architecture, its score, [(arch, score), ...] in evaluation order)."""
    raise NotImplementedError("random_search")


def evolutionary_search(space: dict, evaluate, budget: int, seed: int = 0,
                        population: int = 10, sample_size: int = 3
                        ) -> tuple[dict, float, list[tuple[dict, float]]]:
    """Regularised evolution within `budget` evaluations (initial population included).
    Returns the same triple as random_search."""
    # TODO: random initial population; then: tournament (best of `sample_size` random
    #       members) -> mutate -> evaluate -> add the child, remove the oldest member
    raise NotImplementedError("evolutionary_search")

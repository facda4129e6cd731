"""Day 59 grader: random search and evolutionary search under a budget of evaluations.
Searches run against the tabular digits benchmark (graders/data/nas_digits.py, 144 real
trained MLPs) and a 46 656-architecture synthetic landscape; the grader knows the exhaustive
best of each, counts every evaluation and checks each evaluated architecture."""

import hashlib
import itertools
import random

import pytest

from graders.data.nas_digits import arch_key, load_benchmark

SEEDS_TABULAR, SEEDS_SYNTH = range(5), range(10)
TAB_BUDGET, TAB_EPS = 40, 0.02
SYN_BUDGET, SYN_EPS, SYN_MIN_OK = 200, 0.015, 6


class Landscape:
    """6 choices of 6 options; a smooth bowl around a hidden optimum (weighted per choice)
    plus a little deterministic noise: one-step mutations of good architectures tend to stay
    good, which is what evolution exploits and random sampling cannot."""

    def __init__(self, seed=59):
        rng = random.Random(seed)
        self.space = {f"op{i}": [f"v{j}" for j in range(6)] for i in range(6)}
        self.opt = [rng.randrange(6) for _ in range(6)]
        self.w = [rng.uniform(0.5, 1.5) for _ in range(6)]

    def score(self, arch):
        s = sum(w * (1 - ((int(arch[f"op{i}"][1:]) - o) / 5) ** 2)
                for i, (w, o) in enumerate(zip(self.w, self.opt, strict=True))) / sum(self.w)
        digest = hashlib.sha256(repr(sorted(arch.items())).encode()).digest()
        return s + 0.01 * int.from_bytes(digest[:4], "big") / 2 ** 32

    def best(self):
        return max(self.score(dict(zip(self.space, v, strict=True)))
                   for v in itertools.product(*self.space.values()))


LANDSCAPE = Landscape()
SYN_BEST = LANDSCAPE.best()


class Counted:
    """The evaluate function handed to the search: counts calls, refuses outsiders."""

    def __init__(self, space, score):
        self.space, self.score, self.calls = space, score, []

    def __call__(self, arch):
        if not isinstance(arch, dict) or set(arch) != set(self.space) or any(
                arch[k] not in opts for k, opts in self.space.items()):
            pytest.fail(f"the search evaluated {arch!r}, which is not an architecture of the "
                        "space (one valid option for every key)", pytrace=False)
        self.calls.append(dict(arch))
        return self.score(arch)


def run(search, space, score, budget, seed):
    ev = Counted({k: list(v) for k, v in space.items()}, score)
    result = search({k: list(v) for k, v in space.items()}, ev, budget, seed=seed)
    assert isinstance(result, tuple) and len(result) == 3, (
        "a search returns (best_arch, best_score, history)")
    best, best_score, history = result
    name = search.__name__
    assert len(ev.calls) <= budget, (
        f"{name} (budget {budget}, seed {seed}) called evaluate {len(ev.calls)} times: every "
        "call counts, the initial population included")
    assert len(history) == len(ev.calls) and all(
        isinstance(p, tuple | list) and len(p) == 2 for p in history), (
        f"{name}: history must hold one (arch, score) pair per evaluate call "
        f"({len(ev.calls)} calls, {len(history)} entries)")
    for (arch, s), called in zip(history, ev.calls, strict=True):
        assert arch == called and s == score(called), (
            f"{name}: history entry {arch!r}: {s!r} is not what evaluate returned, in order")
    top = max(s for _, s in history)
    assert best_score == top, (
        f"{name} returned a score of {best_score:.4f}, but it evaluated one scoring {top:.4f}: "
        "return the best architecture seen, not the last one")
    assert best in [a for a, s in history if s == top], (
        f"{name}: the returned architecture is not the one that scored {top:.4f}")
    return best_score, history


@pytest.fixture(scope="module")
def tabular():
    b = load_benchmark()
    return b, b.best()[1]


@pytest.mark.parametrize("seed", range(5))
def test_mutate_changes_exactly_one_choice(solution, seed):
    space = load_benchmark().space
    rng = random.Random(seed)
    arch = {"layers": 2, "width": 64, "activation": "relu", "lr": 0.003}
    before = dict(arch)
    changed = set()
    for _ in range(200):
        child = solution.mutate(arch, space, rng)
        assert arch == before, "mutate modified its argument: return a changed copy"
        assert isinstance(child, dict) and set(child) == set(space), (
            "mutate must return an architecture dict with every key")
        diff = [k for k in space if child[k] != arch[k]]
        assert len(diff) == 1, (
            f"mutate({arch}) gave {child}: {len(diff)} choices changed, expected exactly 1 "
            "(a mutation that changes nothing wastes an evaluation)")
        assert child[diff[0]] in space[diff[0]], (
            f"mutate set {diff[0]} to {child[diff[0]]!r}, not an option of the space")
        changed.add(diff[0])
    assert changed == set(space), f"200 mutations only ever changed {sorted(changed)}"


def test_mutate_skips_keys_with_a_single_option(solution):
    space = {"layers": [1, 2, 3], "activation": ["relu"], "lr": [0.01, 0.1]}
    arch = {"layers": 2, "activation": "relu", "lr": 0.01}
    rng = random.Random(0)
    for _ in range(50):
        child = solution.mutate(arch, space, rng)
        diff = [k for k in space if child[k] != arch[k]]
        assert len(diff) == 1, (
            f"mutate({arch}) in a space where 'activation' has one option gave {child}: "
            f"{len(diff)} choices changed; pick the key among those with more than one option")


@pytest.mark.parametrize("search", ["random_search", "evolutionary_search"])
def test_ties_keep_the_first_best(solution, search, tabular):
    bench = tabular[0]
    _, history = run(getattr(solution, search), bench.space, lambda arch: 0.5, 12, seed=0)
    best = getattr(solution, search)({k: list(v) for k, v in bench.space.items()},
                                     lambda arch: 0.5, 12, seed=0)[0]
    assert best == history[0][0], (
        f"{search}: every architecture scored 0.5, and it returned {best} rather than the "
        f"first one evaluated, {history[0][0]}: on ties the first best is kept")


@pytest.mark.parametrize("search", ["random_search", "evolutionary_search"])
def test_same_seed_same_search(solution, search, tabular):
    bench = tabular[0]
    fn = getattr(solution, search)
    _, h1 = run(fn, bench.space, bench.evaluate, TAB_BUDGET, seed=3)
    _, h2 = run(fn, bench.space, bench.evaluate, TAB_BUDGET, seed=3)
    _, h3 = run(fn, bench.space, bench.evaluate, TAB_BUDGET, seed=4)
    assert [arch_key(a) for a, _ in h1] == [arch_key(a) for a, _ in h2], (
        f"{search} with the same seed evaluated different architectures: draw every random "
        "choice from random.Random(seed), not the global generator")
    assert [arch_key(a) for a, _ in h1] != [arch_key(a) for a, _ in h3], (
        f"{search} ignores its seed: seeds 3 and 4 gave the same search")


@pytest.mark.parametrize("search", ["random_search", "evolutionary_search"])
def test_finds_near_best_on_the_digits_benchmark(solution, search, tabular, record_metric):
    bench, best = tabular
    fn = getattr(solution, search)
    found = [run(fn, bench.space, bench.evaluate, TAB_BUDGET, seed=s)[0]
             for s in SEEDS_TABULAR]
    ok = sum(f >= best - TAB_EPS for f in found)
    record_metric(f"{search}: runs within {TAB_EPS:g} of the best (digits)", ok,
                  target=f">= 4 of {len(found)}")
    assert ok >= 4, (
        f"{search} with {TAB_BUDGET} evaluations of the 144 architectures came within "
        f"{TAB_EPS:g} of the exhaustive best ({best:.4f}) in {ok} of {len(found)} runs "
        f"(found {', '.join(f'{f:.4f}' for f in found)}); expected ≥ 4")


def test_evolution_climbs_where_random_sampling_cannot(solution, record_metric):
    space = LANDSCAPE.space
    hits = 1 - (1 - sum(
        LANDSCAPE.score(dict(zip(space, v, strict=True))) >= SYN_BEST - SYN_EPS
        for v in itertools.product(*space.values())) / 6 ** 6) ** SYN_BUDGET
    assert hits < 0.3, f"grader premise broken: random sampling succeeds with p = {hits:.2f}"
    found = [run(solution.evolutionary_search, space, LANDSCAPE.score, SYN_BUDGET, seed=s)[0]
             for s in SEEDS_SYNTH]
    ok = sum(f >= SYN_BEST - SYN_EPS for f in found)
    record_metric(f"evolution: runs within {SYN_EPS:g} of the best (46 656 architectures)", ok,
                  target=f">= {SYN_MIN_OK} of {len(found)}")
    record_metric("random sampling: chance per run of the same (computed)", hits)
    assert ok >= SYN_MIN_OK, (
        f"evolutionary_search with {SYN_BUDGET} evaluations came within {SYN_EPS:g} of the "
        f"best ({SYN_BEST:.4f}) in {ok} of {len(found)} runs, expected ≥ {SYN_MIN_OK} (random "
        f"sampling manages each run with p = {hits:.2f}). Do parents come from a tournament "
        "(the best of a random sample of the population), and do children replace members?")

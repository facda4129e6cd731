"""Day 89 grader: NAS on a small CNN. The learner's CNN builder against the benchmark's own
(parameter shapes, initial weights, outputs, and one real training that reproduces the
table), then successive halving under an epoch budget: the grader's evaluator counts every
epoch, checks each promotion and the seeding, and the result must come within ε of the best
architecture of the grader's exhaustive search of the real learning-curve table."""

import math
import random

import pytest
import torch

from graders.data.nas_cnn import (
    FIDELITIES,
    SPACE,
    all_architectures,
    build_cnn,
    load_table,
    train_and_score,
)

torch.set_num_threads(1)
BUDGET, EPS, SEEDS, MIN_OK = 90, 0.01, range(10), 8
TRAIN_ARCH, TRAIN_EPOCHS, TRAIN_TOL = {"depth": 1, "width": 8, "kernel": 3, "lr": 0.03}, 3, 0.03


class BudgetExceeded(AssertionError):
    pass


class Evaluator:
    """evaluate(arch, epochs) for a search: checks the architecture and the fidelity, counts
    the epochs spent against the budget and records every call."""

    def __init__(self, score, space, budget):
        self.score, self.space, self.budget = score, space, budget
        self.spent, self.calls = 0, []

    def __call__(self, arch, epochs):
        if epochs not in FIDELITIES:
            raise AssertionError(f"evaluate called with epochs={epochs!r}; the fidelities are "
                                 f"{FIDELITIES}")
        if not isinstance(arch, dict) or set(arch) != set(self.space) or any(
                arch[k] not in v for k, v in self.space.items()):
            raise AssertionError(f"evaluate called with {arch!r}, not an architecture of the "
                                 "space")
        if self.spent + epochs > self.budget:
            raise BudgetExceeded(f"evaluate({arch}, {epochs}) would spend {self.spent + epochs} "
                                 f"epochs, over the budget of {self.budget}")
        self.spent += epochs
        value = self.score(arch, epochs)
        self.calls.append((dict(arch), epochs, value))
        return value


def expected_sizes(n_archs, budget):
    """Rung sizes n0, ⌈n0/3⌉, ⌈n1/3⌉ for the largest n0 whose bracket fits the budget."""
    def sizes(n):
        out = [n]
        for _ in FIDELITIES[1:]:
            out.append(math.ceil(out[-1] / 3))
        return out
    fits = [n for n in range(1, n_archs + 1)
            if sum(s * e for s, e in zip(sizes(n), FIDELITIES, strict=True)) <= budget]
    return sizes(max(fits)) if fits else None


def run_search(solution, space, score, budget, seed):
    ev = Evaluator(score, space, budget)
    try:
        got = solution.successive_halving(space, ev, budget, seed=seed)
    except BudgetExceeded as e:
        pytest.fail(f"successive_halving(budget={budget}, seed={seed}): {e}", pytrace=False)
    assert isinstance(got, tuple) and len(got) == 3, (
        "successive_halving must return (best_arch, best_score, history)")
    return got, ev


def check_run(space, budget, seed, got, ev):
    best_arch, best_score, history = got
    what = f"successive_halving(budget={budget}, seed={seed})"
    calls = ev.calls
    assert [(dict(a), e, s) for a, e, s in history] == calls, (
        f"{what}: history must list (arch, epochs, score) for every call to evaluate, in order "
        f"({len(history)} entries for {len(calls)} calls)")
    want_sizes = expected_sizes(math.prod(len(v) for v in space.values()), budget)
    rungs = [[c for c in calls if c[1] == e] for e in FIDELITIES]
    sizes = [len(r) for r in rungs]
    assert sizes == want_sizes, (
        f"{what}: {sizes} architectures evaluated at {FIDELITIES} epochs; expected "
        f"{want_sizes}: the largest n0 whose whole bracket n0·1 + ⌈n0/3⌉·3 + ⌈n1/3⌉·9 fits "
        "the budget, then the top third (rounded up) promoted at each rung")
    order = [e for _, e, _ in calls]
    assert order == sorted(order), f"{what}: every rung must finish before the next starts"
    keys0 = [arch_key_of(space, a) for a, _, _ in rungs[0]]
    assert len(set(keys0)) == len(keys0), (
        f"{what}: the first rung evaluates {len(keys0) - len(set(keys0))} architecture(s) "
        "twice; sample n0 distinct architectures")
    for lower, upper in zip(rungs, rungs[1:], strict=False):
        ranked = sorted(range(len(lower)), key=lambda i: -lower[i][2])  # stable: call order
        top = [arch_key_of(space, lower[i][0]) for i in ranked[:len(upper)]]
        promoted = [arch_key_of(space, a) for a, _, _ in upper]
        assert set(promoted) == set(top), (
            f"{what}: the architectures evaluated at {upper[0][1]} epochs are not the "
            f"{len(upper)} best of the {lower[0][1]}-epoch rung (highest scores first, ties "
            "in evaluation order)")
        assert promoted == top, (
            f"{what}: the {upper[0][1]}-epoch rung evaluates the right architectures in the "
            "wrong order; evaluate them in rank order, highest score first (ties in the "
            "previous rung's evaluation order)")
    last = rungs[-1]
    i = max(range(len(last)), key=lambda j: (last[j][2], -j))
    assert isinstance(best_arch, dict) and arch_key_of(space, best_arch) == \
        arch_key_of(space, last[i][0]) and best_score == last[i][2], (
            f"{what}: returned {best_arch} ({best_score}); expected the best architecture of "
            f"the {FIDELITIES[-1]}-epoch rung, {last[i][0]} ({last[i][2]}) — scores at fewer "
            "epochs are not comparable")


def arch_key_of(space, arch):
    return tuple(arch[k] for k in space)


# ---- the CNN of an architecture ----

def test_build_cnn_matches_the_space(solution):
    for arch in all_architectures():
        given = dict(arch)
        got = solution.build_cnn(given)
        assert given == arch, f"build_cnn modified its argument: {arch} became {given}"
        assert isinstance(got, torch.nn.Module), f"build_cnn({arch}) must return an nn.Module"
        want = build_cnn(arch)
        got_shapes = [tuple(p.shape) for p in got.parameters()]
        want_shapes = [tuple(p.shape) for p in want.parameters()]
        assert got_shapes == want_shapes, (
            f"build_cnn({arch}): parameter shapes {got_shapes}, expected {want_shapes} "
            f"({arch['depth']} conv layer(s) of {arch['width']} channels, kernel "
            f"{arch['kernel']}, padding {arch['kernel'] // 2}, then max-pool 2 and a "
            f"Linear({arch['width'] * 16} → 10))")


@pytest.mark.parametrize("arch", [{"depth": 1, "width": 4, "kernel": 5, "lr": 0.01},
                                  {"depth": 3, "width": 8, "kernel": 3, "lr": 0.003}])
def test_build_cnn_initialises_and_computes_like_the_benchmark(solution, arch):
    torch.manual_seed(5)
    got = solution.build_cnn(dict(arch))
    torch.manual_seed(5)
    want = build_cnn(arch)
    for (name, p), q in zip(got.named_parameters(), want.parameters(), strict=True):
        assert torch.equal(p, q), (
            f"build_cnn({arch}): after the same torch.manual_seed, {name} differs from the "
            "benchmark's: create the layers in order (conv1, conv2, ..., linear) with "
            "PyTorch's default initialisation")
    x = torch.rand(5, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y_want = got_error = None
        try:
            y = got(x)
        except RuntimeError as e:
            got_error = e
        y_want = want(x)
    assert got_error is None, (
        f"build_cnn({arch}) fails on a (5, 1, 8, 8) batch: {got_error} — the convolutions "
        "keep the 8×8 size (padding kernel // 2) and the Linear takes width·4·4 inputs")
    assert y.shape == (5, 10) and torch.allclose(y, y_want, rtol=1e-5, atol=1e-6), (
        f"build_cnn({arch}) computes something else than conv → ReLU blocks → MaxPool2d(2) "
        "→ Flatten → Linear (max abs difference "
        f"{(y - y_want).abs().max().item() if y.shape == y_want.shape else 'n/a'})")


def test_training_the_learners_cnn_reproduces_the_table(solution, record_metric):
    val, _ = train_and_score(TRAIN_ARCH, TRAIN_EPOCHS, build=solution.build_cnn)
    table = load_table().accuracy(TRAIN_ARCH, TRAIN_EPOCHS)
    record_metric("retrained_val_accuracy", val)
    assert abs(val - table) <= TRAIN_TOL, (
        f"{TRAIN_ARCH} built by build_cnn and trained for {TRAIN_EPOCHS} epochs reaches "
        f"{val:.4f} validation accuracy; the benchmark table says {table:.4f} (±{TRAIN_TOL})")


# ---- successive halving: the rules ----

def toy_space():
    return {"a": [0, 1, 2, 3, 4], "b": ["x", "y", "z"], "c": [True, False]}


def toy_score(arch, epochs):
    """Deterministic, rank-changing learning curves, scores in (0, 1)."""
    base = (arch["a"] * 7 + "xyz".index(arch["b"]) * 3 + arch["c"] * 5) % 11 / 11
    wobble = ((arch["a"] * 13 + epochs * 5 + "xyz".index(arch["b"]) * 2) % 7) / 70
    return round(0.3 + 0.5 * base + wobble - 0.1 / epochs, 6)


@pytest.mark.parametrize("budget", [13, 14, 40, 61, 90, 200])
def test_rungs_promotions_and_budget(solution, budget):
    space = toy_space()
    saved = {k: list(v) for k, v in space.items()}
    got, ev = run_search(solution, space, toy_score, budget, seed=budget)
    check_run(space, budget, budget, got, ev)
    assert space == saved, "successive_halving modified `space`"


def test_ties_keep_evaluation_order(solution):
    space = toy_space()
    got, ev = run_search(solution, space, lambda a, e: 0.5, 40, seed=1)
    check_run(space, 40, 1, got, ev)


def test_too_small_a_budget_raises(solution):
    space = toy_space()
    ev = Evaluator(toy_score, space, 12)
    with pytest.raises(ValueError):
        solution.successive_halving(space, ev, 12, seed=0)
    assert not ev.calls, "successive_halving evaluated architectures before raising"


def test_seeded(solution):
    space = toy_space()
    random.seed(89)  # any state: the search must leave the global random module alone
    state = random.getstate()
    runs = [run_search(solution, space, toy_score, 61, seed=s)[1].calls for s in (3, 3, 4)]
    assert runs[0] == runs[1], "the same seed must replay the same search (random.Random(seed))"
    assert runs[0] != runs[2], "seeds 3 and 4 gave the same search: is the seed used?"
    assert random.getstate() == state, (
        "successive_halving used (or seeded) the global random module; draw everything from "
        "its own random.Random(seed)")


# ---- the search on the real learning-curve table ----

def test_search_comes_within_eps_of_the_exhaustive_best(solution, record_metric):
    table = load_table()
    best_arch, best = table.best()  # the grader's own, exhaustive search at 9 epochs
    space = {k: list(v) for k, v in SPACE.items()}
    hits, found = 0, []
    for seed in SEEDS:
        got, ev = run_search(solution, space, table.accuracy, BUDGET, seed)
        check_run(space, BUDGET, seed, got, ev)
        found.append(got[1])
        hits += got[1] >= best - EPS
    # random search at full fidelity with the same budget, exactly
    n_full = BUDGET // FIDELITIES[-1]
    good = sum(table.accuracy(a, FIDELITIES[-1]) >= best - EPS for a in all_architectures())
    n = len(all_architectures())
    p_random = 1 - math.comb(n - good, n_full) / math.comb(n, n_full)
    record_metric("runs_within_eps", hits, target=f">= {MIN_OK} of {len(SEEDS)}",
                  verdict="PASS" if hits >= MIN_OK else "FAIL")
    record_metric("random_search_p_within_eps", p_random)
    assert hits >= MIN_OK, (
        f"successive halving with a budget of {BUDGET} epochs came within {EPS} of the "
        f"exhaustive best ({best:.4f}, {best_arch}) in {hits} of {len(SEEDS)} runs (at least "
        f"{MIN_OK} required); it found {', '.join(f'{v:.4f}' for v in found)}")


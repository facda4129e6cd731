"""Day 125 grader: the cheapest instance type meeting a p99 latency SLO and a throughput
demand. Pure checks on fixed numbers first (exactly meeting the demand, latency exactly at
the SLO, exact cost ties), then the demo model's batch latency measured here on one core,
turned into figures by the learner's code and scaled by the shipped, dated instance table;
the learner's choice must be the grader's."""

import math
import random
import time
from decimal import Decimal
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data" / "instances.csv"
BATCH, WARMUP, SAMPLES = 64, 10, 200
DEMAND_PER_CORE, SLO_PER_P99 = 37, 1.5  # the measured scenario, relative to the measurement


# ---- the grader's own rule ----------------------------------------------------------------

def read_table() -> list[dict]:
    lines = [ln for ln in DATA.read_text(encoding="utf-8").splitlines()
             if ln and not ln.startswith("#")]
    head = lines[0].split(",")
    rows = [dict(zip(head, ln.split(","), strict=True)) for ln in lines[1:]]
    return [{"name": r["name"], "provider": r["provider"], "kind": r["kind"],
             "vcpus": int(r["vcpus"]), "speed": float(r["speed"]),
             "usd_per_hour": Decimal(r["usd_per_hour"])} for r in rows]


def nearest_rank(values, q):
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def oracle_size(inst, per_core_rps, latency_s, demand_rps, slo_s):
    per_instance = per_core_rps * inst["speed"] * inst["vcpus"]
    replicas = max(1, math.ceil(demand_rps / per_instance))
    return latency_s / inst["speed"] <= slo_s, replicas, replicas * inst["usd_per_hour"]


def oracle_choice(table, *scenario):
    rows = [(oracle_size(i, *scenario), i["name"]) for i in table]
    feasible = sorted((cost, replicas, name) for (ok, replicas, cost), name in rows if ok)
    if not feasible:
        return None
    cost, replicas, name = feasible[0]
    return name, replicas, cost


def inst(name, vcpus, speed, price):
    return {"name": name, "provider": "test", "kind": "cloud", "vcpus": vcpus, "speed": speed,
            "usd_per_hour": Decimal(price)}


def check_size(solution, instance, scenario, what):
    got = solution.size(dict(instance), *scenario)
    want = oracle_size(instance, *scenario)
    ok = (isinstance(got, tuple) and len(got) == 3 and type(got[0]) is bool
          and type(got[1]) is int and isinstance(got[2], Decimal))
    assert ok, (f"size must return (feasible: bool, replicas: int, cost: Decimal), got "
                f"{got!r}")
    assert got[0] == want[0], (
        f"{what}: feasible is {got[0]}, expected {want[0]} (latency on the instance = "
        f"latency_s / speed = {scenario[1] / instance['speed']:g} s against the SLO "
        f"{scenario[3]:g} s; equal meets it)")
    per_instance = scenario[0] * instance["speed"] * instance["vcpus"]
    assert got[1] == want[1], (
        f"{what}: {got[1]} replicas, expected {want[1]} = max(1, ceil(demand / per-instance "
        f"throughput)) = max(1, ceil({scenario[2]:g} / {per_instance:g})); per-instance "
        "throughput = per_core_rps · speed · vcpus")
    assert got[2] == want[2], (
        f"{what}: cost {got[2]}, expected {want[2]} = replicas · usd_per_hour (Decimal)")


# ---- table and figures ---------------------------------------------------------------------

def test_load_table_reads_the_dated_csv(solution):
    got = solution.load_table(DATA)
    want = read_table()
    assert isinstance(got, list) and len(got) == len(want), (
        f"load_table must return a list of {len(want)} dicts (one per instance row; comment "
        f"lines start with #), got {got!r:.200}")
    for g, w in zip(got, want, strict=True):
        assert isinstance(g, dict), "each instance must be a dict"
        for key, value in w.items():
            assert key in g, f"instance {w['name']}: key {key!r} missing"
            assert g[key] == value and type(g[key]) is type(value), (
                f"instance {w['name']}: {key} = {g[key]!r}, expected {value!r} "
                f"({type(value).__name__}; prices as decimal.Decimal of the CSV text, exact)")


@pytest.mark.parametrize("samples,batch,rps,p99", [
    ([0.001 * k for k in range(1, 201)], 64, 64 / 0.1005, 0.198),
    ([0.004, 0.001, 0.003, 0.002, 0.010, 0.002, 0.003, 0.002, 0.002, 0.005], 32,
     32 / 0.0025, 0.010),
    ([0.002] * 99 + [0.5], 16, 16 / 0.002, 0.002),
], ids=["1-200 ms", "ten samples", "one outlier"])
def test_figures_are_median_throughput_and_nearest_rank_p99(solution, samples, batch, rps, p99):
    shuffled = list(samples)
    random.Random(125).shuffle(shuffled)
    got = solution.figures(list(shuffled), batch)
    assert isinstance(got, tuple) and len(got) == 2, "figures must return (per_core_rps, p99_s)"
    assert math.isclose(got[0], rps, rel_tol=1e-12), (
        f"per_core_rps = {got[0]:.6g}, expected batch / median(samples) = {rps:.6g}")
    assert math.isclose(got[1], p99, rel_tol=1e-12), (
        f"p99 of {len(samples)} samples = {got[1]:.6g} s, expected {p99:g} s: the nearest-rank "
        "p99 is sorted(samples)[ceil(0.99 · n) - 1] (no interpolation)")


# ---- the rule on fixed numbers -------------------------------------------------------------

A2 = inst("a2", 2, 1.0, "0.10")  # 2 cores at speed 1: 100 rps when one core does 50


@pytest.mark.parametrize("what,instance,scenario", [
    ("demand exactly 3 instances' throughput", A2, (50.0, 0.004, 300.0, 0.01)),
    ("demand just above 3 instances' throughput", A2, (50.0, 0.004, 300.5, 0.01)),
    ("demand exactly 1 instance's throughput", A2, (50.0, 0.004, 100.0, 0.01)),
    ("no demand: still one instance", A2, (50.0, 0.004, 0.0, 0.01)),
    ("latency exactly at the SLO (speed 0.5)", inst("half", 4, 0.5, "0.05"),
     (50.0, 0.004, 300.0, 0.008)),
    ("latency just above the SLO", inst("half", 4, 0.5, "0.05"), (50.0, 0.004, 300.0, 0.0079)),
    ("a faster core shortens the latency", inst("fast", 2, 2.0, "0.30"),
     (50.0, 0.004, 300.0, 0.002)),
    ("per-instance throughput is per core · speed · vcpus", inst("big", 8, 1.25, "0.40"),
     (40.0, 0.001, 1000.0, 0.01)),
])
def test_size_on_fixed_numbers(solution, what, instance, scenario):
    check_size(solution, instance, scenario, what)


def choose(solution, table, scenario):
    given = [dict(i) for i in table]
    got = solution.cheapest(given, *scenario)
    assert given == table, "cheapest modified the table it was given"
    want = oracle_choice(table, *scenario)
    if want is None:
        assert got is None, f"no instance meets the SLO, so cheapest returns None, got {got!r}"
        return
    assert isinstance(got, tuple) and len(got) == 3, (
        f"cheapest must return (name, replicas, cost) or None, got {got!r}")
    return got, want


def test_exact_cost_tie_goes_to_fewer_replicas(solution):
    # 3 × 0.30 = 0.90 = 2 × 0.45 exactly (in floats 3 × 0.3 is 0.8999999999999999); the
    # fewer replicas have the later name and come second, so neither the name nor the table's
    # order breaks this tie the right way
    table = [inst("narrow", 2, 1.0, "0.30"), inst("wide", 3, 1.0, "0.45")]
    got, want = choose(solution, table, (50.0, 0.004, 300.0, 0.01))
    assert got == want, (
        f"cheapest = {got}, expected {want}: 'narrow' (3 × $0.30) and 'wide' (2 × $0.45) cost "
        "exactly $0.90 — equal costs go to the fewer replicas before the name (compare Decimal "
        "costs, not floats)")


def test_exact_cost_and_replica_tie_goes_to_the_name(solution):
    table = [inst("b-node", 2, 1.0, "0.15"), inst("c-node", 2, 1.0, "0.15"),
             inst("a-node", 2, 1.0, "0.15")]
    got, want = choose(solution, table, (50.0, 0.004, 200.0, 0.01))
    assert got == want, (
        f"cheapest = {got}, expected {want}: three instances at the same cost and replicas — "
        "the tie goes to the alphabetically first name, not to the table's order")


def test_the_slo_excludes_instances(solution):
    # the cheap slow one would win on cost; its latency 0.004 / 0.5 = 0.008 s misses 0.006 s
    table = [inst("slow-cheap", 4, 0.5, "0.01"), inst("fast", 2, 1.0, "0.10")]
    got, want = choose(solution, table, (50.0, 0.004, 300.0, 0.006))
    assert got == want, (f"cheapest = {got}, expected {want}: 'slow-cheap' misses the p99 SLO "
                         "(latency_s / speed > p99_slo_s) and is not a candidate")
    assert choose(solution, table, (50.0, 0.004, 300.0, 0.001)) is None


def test_cost_counts_every_replica(solution):
    # the small one is cheaper per hour, but the demand takes 10 of them: 10 × $0.05 = $0.50
    # against 2 × $0.20 = $0.40
    table = [inst("small", 1, 1.0, "0.05"), inst("large", 8, 1.0, "0.20")]
    got, want = choose(solution, table, (50.0, 0.004, 500.0, 0.01))
    assert got == want, (f"cheapest = {got}, expected {want}: the cost of a choice is "
                         "replicas · usd_per_hour, not the price of one instance")


# ---- measured here -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def samples():
    """Per-call thread CPU time of the demo model (capstone 2's MLP), batch 64, one thread."""
    import torch

    from graders.data.capstone2 import baseline, load_task

    torch.set_num_threads(1)
    task = load_task()
    fn, x = baseline(task.model), task.x_bench[:BATCH]
    for _ in range(WARMUP):
        fn(x)
    out = []
    for _ in range(SAMPLES):
        t0 = time.thread_time()
        fn(x)
        out.append(time.thread_time() - t0)
    return [max(s, 1e-7) for s in out]  # a coarse clock may read 0


def test_the_cheapest_instance_for_the_measured_model(solution, samples, record_metric):
    table = read_table()
    rps_got, p99_got = solution.figures(list(samples), BATCH)
    rps = BATCH / ((sorted(samples)[SAMPLES // 2 - 1] + sorted(samples)[SAMPLES // 2]) / 2)
    p99 = nearest_rank(samples, 0.99)
    assert math.isclose(rps_got, rps, rel_tol=1e-9) and math.isclose(p99_got, p99,
                                                                     rel_tol=1e-9), (
        f"figures of the measured samples = ({rps_got:.6g} rps, {p99_got:.6g} s), expected "
        f"({rps:.6g}, {p99:.6g})")
    scenario = (rps, p99, DEMAND_PER_CORE * rps, SLO_PER_P99 * p99)
    record_metric("demo model throughput, one core", rps, unit="items/s")
    record_metric("demo model p99 batch latency", p99 * 1e3, unit="ms")
    for instance in table:
        check_size(solution, instance, scenario, f"{instance['name']} (measured scenario)")
    got, want = choose(solution, table, scenario)
    record_metric("cheapest instance replicas", want[1])
    record_metric("cheapest instance cost", float(want[2]), unit="USD/h")
    assert got == want, f"cheapest = {got} for the measured scenario, expected {want}"

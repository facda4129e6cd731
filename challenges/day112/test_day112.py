"""Day 112 grader: the Kubernetes HPA replica rule (tolerance band, ceil, scale-down
stabilisation window, min/max) on recorded CPU traces against the grader's own controller,
hand-made boundary cases, and the Deployment + HorizontalPodAutoscaler manifests validated
offline against the Kubernetes 1.33 schemas (kubernetes-validate, strict)."""

import csv
import math
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

DATA = Path(__file__).parent / "data"
TRACES = ("spike", "diurnal", "flap")
K8S_VERSION = "1.33"
TOL = Fraction(1, 10)
POLICY = {"min_replicas": 2, "max_replicas": 12, "target_utilisation": 60, "request_m": 200,
          "window_s": 300, "initial_replicas": 3, "tolerance": TOL}


def read_trace(name: str) -> list[tuple[int, int]]:
    with open(DATA / f"{name}.csv", newline="") as f:
        rows = [r for r in csv.reader(f) if r and not r[0].startswith("#")]
    return [(int(t), int(d)) for t, d in rows[1:]]


# ---- the grader's controller, and the usual slips as variants of it ----------------------

def oracle(trace, policy, *, floats=False, open_band=False, no_window=False,
           window_inclusive=False, no_clamp=False, util_rounded=False, min_window=False):
    """Replicas after each sync period. Integer cross-multiplication for the band and the
    ceiling; the keyword flags reproduce the usual slips for the diagnosis."""
    lo, hi, r = policy["min_replicas"], policy["max_replicas"], policy["initial_replicas"]
    target, request, window = policy["target_utilisation"], policy["request_m"], policy["window_s"]
    tol = policy["tolerance"]
    recs, out = [], []
    for t, demand in trace:
        if util_rounded:
            metric = round(100 * demand / (r * request))
        else:
            metric = 100 * demand // (r * request)
        if floats:
            ratio = metric / target
            off = abs(1.0 - ratio)
            rec = r if off <= float(tol) else math.ceil(ratio * r)
        else:
            # |metric/target - 1| <= p/q  <=>  q·|metric - target| <= p·target
            inside = tol.denominator * abs(metric - target) <= tol.numerator * target
            if open_band:
                inside = tol.denominator * abs(metric - target) < tol.numerator * target
            rec = r if inside else -(-r * metric // target)
        recs.append((t, rec))
        if no_window:
            stable = rec
        else:
            since = [x for when, x in recs
                     if (when >= t - window if window_inclusive else when > t - window)]
            stable = min(since) if min_window else max(since)
        r = stable if no_clamp else min(hi, max(lo, stable))
        out.append(r)
    return out


SLIPS = {
    "floats": "the band or the ceiling is computed in floating point: 110/100 is "
              "1.1000000000000000888 in floats, so a ratio exactly at 1 + tolerance leaves the "
              "band, and ceil(10 · 1.3) is 14 — use fractions.Fraction or integers",
    "open_band": "the tolerance band is open: a ratio exactly at 1 ± tolerance is inside "
                 "it (<=, not <) and keeps the current size",
    "no_window": "there is no scale-down stabilisation: the size follows the newest "
                 "recommendation down at once instead of the highest one of the window",
    "window_inclusive": "the stabilisation window keeps a recommendation exactly window_s "
                        "seconds old: it holds those with t - window_s < t' <= t",
    "min_window": "the stabilisation takes the lowest recommendation of the window: it is "
                  "the highest (scale down only as far as every recent recommendation allows)",
    "no_clamp": "the size is not clamped to [min_replicas, max_replicas]",
    "util_rounded": "the utilisation is rounded to nearest: the HPA rounds it down "
                    "(100 · demand // (replicas · request_m))",
}


def diagnose(got, trace, policy) -> str:
    for flag, why in SLIPS.items():
        if got == oracle(trace, policy, **{flag: True}):
            return f" — {why}"
    return ""


def check_run(solution, trace, policy, what):
    got = solution.simulate(list(trace), dict(policy))
    want = oracle(trace, policy)
    if not isinstance(got, list) or not all(type(x) is int for x in got):
        pytest.fail(f"simulate({what}) must return a list of int, got "
                    f"{type(got).__name__}", pytrace=False)
    if len(got) != len(want):
        pytest.fail(f"simulate({what}) returned {len(got)} sizes for {len(trace)} sync "
                    "periods: one per row of the trace", pytrace=False)
    if got != want:
        i = next(k for k, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
        before = want[i - 1] if i else policy["initial_replicas"]
        t, demand = trace[i]
        util = 100 * demand // (before * policy["request_m"])
        pytest.fail(f"simulate({what}): at t = {t} s (row {i}, demand {demand}m on {before} "
                    f"replicas, utilisation {util} %) the size is {got[i]}, the HPA rule gives "
                    f"{want[i]}{diagnose(got, trace, policy)}", pytrace=False)


# ---- the pure functions, with exact boundaries -------------------------------------------

@pytest.mark.parametrize("demand,replicas,request_m,want", [
    (600, 5, 200, 60), (599, 5, 200, 59), (1199, 3, 200, 199), (0, 2, 200, 0),
    (2999, 7, 150, 285), (1, 4, 500, 0)])
def test_utilisation_is_the_integer_percent_rounded_down(solution, demand, replicas, request_m,
                                                        want):
    got = solution.utilisation(demand, replicas, request_m)
    assert type(got) is int, f"utilisation must return an int, got {type(got).__name__}"
    hint = (" — the HPA rounds the percent down: 100 · demand // (replicas · request_m)"
            if got == round(100 * demand / (replicas * request_m)) else "")
    assert got == want, (
        f"utilisation({demand}, {replicas}, {request_m}) = {got}, expected {want}{hint}")


@pytest.mark.parametrize("current,metric,target,want,why", [
    (10, 90, 100, 10, "ratio exactly 0.9 = 1 - tolerance: inside the band"),
    (3, 110, 100, 3, "ratio exactly 1.1 = 1 + tolerance: inside the band"),
    (3, 66, 60, 3, "66/60 is exactly 1.1: inside the band"),
    (3, 111, 100, 4, "ratio 1.11 is outside the band: ceil(3 · 1.11) = 4"),
    (10, 89, 100, 9, "ratio 0.89 is outside the band: ceil(8.9) = 9"),
    (10, 130, 100, 13, "ceil(10 · 13/10) = 13 exactly (in floats 10 · 1.3 = "
                       "13.000000000000002 and its ceiling 14)"),
    (7, 30, 60, 4, "ceil(7 · 1/2) = ceil(3.5) = 4"),
    (5, 0, 60, 0, "no load: ceil(0) = 0 (the clamp to min_replicas comes later)"),
    (4, 240, 60, 16, "ceil(4 · 4) = 16, not bounded here (the clamp comes later)"),
])
def test_recommend_follows_the_hpa_formula(solution, current, metric, target, want, why):
    got = solution.recommend(current, metric, target, TOL)
    assert type(got) is int, f"recommend must return an int, got {type(got).__name__}"
    slip = ""
    if got != want:
        ratio = metric / target
        in_floats = current if abs(1.0 - ratio) <= 0.1 else math.ceil(current * ratio)
        if got == in_floats and solution.recommend(10, 130, 100, TOL) == 14:
            slip = f" — {SLIPS['floats']}"
        elif 10 * abs(metric - target) == target:
            slip = f" — {SLIPS['open_band']}"
    assert got == want, (
        f"recommend({current}, {metric}, {target}) = {got}, expected {want}: {why}{slip}")


def test_recommend_uses_its_tolerance(solution):
    got = solution.recommend(10, 115, 100, Fraction(1, 5))
    assert got == 10, (f"recommend(10, 115, 100, tolerance=1/5) = {got}: 1.15 is within 0.2 of "
                       "1, so the size stays 10 — use the tolerance argument")
    got = solution.recommend(10, 115, 100)
    assert got == 12, (f"recommend(10, 115, 100) = {got}: the default tolerance is 1/10, and "
                       "ceil(10 · 1.15) = 12")


# ---- hand-made traces: one rule each --------------------------------------------------------

SMALL = {**POLICY, "min_replicas": 2, "max_replicas": 6, "initial_replicas": 4,
         "window_s": 60}


def steps(demands, period=15):
    return [(period * i, d) for i, d in enumerate(demands)]


@pytest.mark.parametrize("what,trace,want", [
    # 4 pods × 200m at 60 % is 480m; a spike asks for ceil(4 · 150/60) = 10 → clamped to 6
    ("max: a burst clamps at max_replicas", steps([1200]), [6]),
    ("max: exactly max_replicas is kept", steps([720]), [6]),
    # no load: ceil(0) = 0, clamped up to min_replicas once t = 0's 4 has left the window
    ("min: no load goes down to min_replicas", steps([480, 0, 0, 0, 0, 0]), [4, 4, 4, 4, 2, 2]),
    # window 60 s at 15 s periods: t = 60 s no longer sees the recommendation of t = 0
    ("window: a recommendation exactly window_s old is out",
     steps([480, 240, 240, 240, 240]), [4, 4, 4, 4, 2]),
    ("window: down only to the highest recommendation of the window",
     steps([480, 360, 240, 240, 240, 240]), [4, 4, 4, 4, 3, 2]),
    ("up: scale-up is immediate", steps([480, 720]), [4, 6]),
    # rows 30 s apart: the window counts seconds, not rows — t = 0 is out at t = 60 s
    ("window: by time, rows 30 s apart", steps([480, 240, 240, 240], period=30), [4, 4, 2, 2]),
])
def test_small_traces(solution, what, trace, want):
    assert oracle(trace, SMALL) == want  # the grader's own controller agrees with the hand
    check_run(solution, trace, SMALL, what)


def test_simulate_rejects_an_initial_size_outside_the_bounds(solution):
    for initial, lo, hi in ((1, 2, 6), (7, 2, 6), (3, 4, 2), (2, 0, 6), (0, 0, 6)):
        policy = {**SMALL, "initial_replicas": initial, "min_replicas": lo, "max_replicas": hi}
        with pytest.raises(ValueError):
            solution.simulate(steps([480]), policy)
            pytest.fail(f"simulate with min_replicas={lo}, initial_replicas={initial}, "
                        f"max_replicas={hi} must raise ValueError (need 1 <= min <= initial "
                        "<= max)", pytrace=False)


@pytest.mark.parametrize("name", TRACES)
def test_recorded_traces(solution, name, record_metric):
    trace = read_trace(name)
    check_run(solution, trace, POLICY, f"data/{name}.csv")
    want = oracle(trace, POLICY)
    changes = sum(a != b for a, b in zip(want, want[1:], strict=False))
    record_metric(f"{name}: replica changes", changes)
    record_metric(f"{name}: peak replicas", max(want))


def test_simulate_leaves_its_inputs_alone(solution):
    trace, policy = read_trace("flap"), dict(POLICY)
    copy_t, copy_p = list(trace), dict(policy)
    solution.simulate(trace, policy)
    assert trace == copy_t and policy == copy_p, "simulate modified the trace or the policy"


# ---- manifests -----------------------------------------------------------------------------

MANIFEST_POLICY = {**POLICY, "min_replicas": 3, "max_replicas": 9, "target_utilisation": 70,
                   "request_m": 250, "window_s": 180, "initial_replicas": 4}
NAME, IMAGE = "digits-api", "registry.example/digits-api:1.4.2"


def cpu_millicores(quantity) -> float | None:
    """A Kubernetes CPU quantity in millicores: '250m', '0.25', 0.25 or 1."""
    if isinstance(quantity, bool):
        return None
    if isinstance(quantity, int | float):
        return quantity * 1000
    if isinstance(quantity, str):
        try:
            return float(quantity[:-1]) if quantity.endswith("m") else float(quantity) * 1000
        except ValueError:
            return None
    return None


@pytest.fixture(scope="module")
def documents(solution):
    text = solution.manifests(NAME, IMAGE, dict(MANIFEST_POLICY))
    if not isinstance(text, str):
        pytest.fail(f"manifests must return YAML text (str), got {type(text).__name__}",
                    pytrace=False)
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        pytest.fail(f"manifests returned text that is not YAML: {e}", pytrace=False)
    kinds = [d.get("kind") if isinstance(d, dict) else type(d).__name__ for d in docs]
    if sorted(map(str, kinds)) != ["Deployment", "HorizontalPodAutoscaler"]:
        pytest.fail(f"manifests must hold exactly one Deployment and one "
                    f"HorizontalPodAutoscaler, found {kinds}", pytrace=False)
    return {d["kind"]: d for d in docs}


@pytest.mark.parametrize("kind", ["Deployment", "HorizontalPodAutoscaler"])
def test_manifest_validates_against_the_kubernetes_schema(documents, kind):
    import kubernetes_validate as kv

    doc = documents[kind]
    want = {"Deployment": "apps/v1", "HorizontalPodAutoscaler": "autoscaling/v2"}[kind]
    assert doc.get("apiVersion") == want, (
        f"the {kind} has apiVersion {doc.get('apiVersion')!r}, expected {want!r}")
    try:
        kv.validate(doc, K8S_VERSION, strict=True)
    except kv.ValidationError as e:
        where = ".".join(map(str, e.path)) or "(top level)"
        pytest.fail(f"the {kind} does not validate against the Kubernetes {K8S_VERSION} schema "
                    f"(strict) at {where}: {e.message}", pytrace=False)


def test_hpa_matches_the_policy(documents):
    spec = documents["HorizontalPodAutoscaler"].get("spec", {})
    p = MANIFEST_POLICY
    ref = spec.get("scaleTargetRef", {})
    assert (ref.get("kind"), ref.get("name")) == ("Deployment", NAME), (
        f"scaleTargetRef points at {ref.get('kind')}/{ref.get('name')}, not Deployment/{NAME}")
    # optional in the schema, but without it the controller cannot find the Deployment's scale
    assert ref.get("apiVersion") == "apps/v1", (
        f"scaleTargetRef.apiVersion is {ref.get('apiVersion')!r}, expected 'apps/v1' (the "
        "Deployment's group/version: without it the HPA cannot resolve its target)")
    assert (spec.get("minReplicas"), spec.get("maxReplicas")) == (p["min_replicas"],
                                                                   p["max_replicas"]), (
        f"minReplicas/maxReplicas are {spec.get('minReplicas')}/{spec.get('maxReplicas')}, the "
        f"policy says {p['min_replicas']}/{p['max_replicas']}")
    metrics = spec.get("metrics") or []
    cpu = [m for m in metrics if m.get("type") == "Resource"
           and m.get("resource", {}).get("name") == "cpu"]
    assert len(metrics) == 1 and cpu, (
        "the HPA must scale on one metric: the Resource metric cpu")
    target = cpu[0]["resource"].get("target", {})
    assert (target.get("type"), target.get("averageUtilization")) == (
        "Utilization", p["target_utilisation"]), (
        f"the cpu target is {target}, expected type Utilization with averageUtilization "
        f"{p['target_utilisation']}")
    window = spec.get("behavior", {}).get("scaleDown", {}).get("stabilizationWindowSeconds")
    assert window == p["window_s"], (
        f"behavior.scaleDown.stabilizationWindowSeconds is {window}, the policy's window_s "
        f"is {p['window_s']}")


def test_deployment_matches_the_policy(documents):
    dep = documents["Deployment"]
    spec = dep.get("spec", {})
    assert dep.get("metadata", {}).get("name") == NAME, f"the Deployment must be named {NAME!r}"
    assert spec.get("replicas") == MANIFEST_POLICY["initial_replicas"], (
        f"the Deployment starts with replicas={spec.get('replicas')}, the policy's "
        f"initial_replicas is {MANIFEST_POLICY['initial_replicas']}")
    selector = spec.get("selector", {}).get("matchLabels", {})
    labels = spec.get("template", {}).get("metadata", {}).get("labels", {})
    assert selector and all(labels.get(k) == v for k, v in selector.items()), (
        f"the selector {selector} must match the pod template's labels {labels}")
    containers = spec.get("template", {}).get("spec", {}).get("containers", [])
    assert len(containers) == 1 and containers[0].get("image") == IMAGE, (
        f"the Deployment must run one container with image {IMAGE!r}")
    requests = containers[0].get("resources", {}).get("requests", {})
    assert "cpu" in requests, (
        "the container has no resources.requests.cpu: CPU utilisation is usage over the "
        "request, so an HPA on cpu Utilization cannot work without it")
    got = cpu_millicores(requests["cpu"])
    assert got == MANIFEST_POLICY["request_m"], (
        f"resources.requests.cpu is {requests['cpu']!r} = {got} millicores, the policy's "
        f"request_m is {MANIFEST_POLICY['request_m']} (write '{MANIFEST_POLICY['request_m']}m':"
        " a bare number counts whole cores)")

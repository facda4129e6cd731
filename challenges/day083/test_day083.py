"""Day 83 grader: the learner's benchmark suite runner and dashboard. The statistics are
recomputed from the raw samples the learner logged (numpy as the oracle), the samples are
traced back to graders.bench.measure, the log's schema and append-only behaviour are checked,
the dashboard is parsed and held to the log, and the learner's medians are compared with the
grader's own measurement of the same functions in the same run."""

import json
import math
import random
import re
from datetime import datetime, timedelta

import numpy as np
import pytest

import graders.bench
from graders.requires import Inconclusive
from hardware.detect import this_machine

KEYS = {"name", "params", "unit", "n", "block", "samples", "median", "p90", "iqr", "outliers",
        "hardware", "timestamp"}
HEADER = ["name", "params", "n", "median (us)", "p90 (us)", "IQR (us)", "outliers",
          "vs fastest"]
REL = 1e-9  # recomputed statistics: float rounding only
AGREE, DISAGREE = 3.0, 10.0  # learner median / grader median: PASS within 3x, FAIL beyond 10x
OLD_LINE = {"name": "an earlier run", "note": "a log keeps what it had"}


def suite_cases():
    """The functions the grader hands to run_suite (and measures itself)."""
    rng = random.Random(83)
    shuffled = rng.sample(range(512), 512)
    ints = list(range(256))
    vec = np.linspace(0.0, 1.0, 4096)
    return [
        {"name": "sum 256", "fn": sum, "args": (ints,), "params": {"n": 256}},
        {"name": "sorted 512", "fn": sorted, "args": (shuffled,), "params": {"n": 512}},
        {"name": "numpy dot 4096", "fn": np.dot, "args": (vec, vec),
         "params": {"n": 4096, "dtype": "float64"}},
    ]


def oracle(samples) -> dict:
    xs = np.asarray(samples, dtype=np.float64)
    q1, med, q3, p90 = (float(np.percentile(xs, q, method="linear")) for q in (25, 50, 75, 90))
    iqr = q3 - q1
    out = int(np.sum(xs < q1 - 1.5 * iqr) + np.sum(xs > q3 + 1.5 * iqr))
    return {"median": med, "p90": p90, "iqr": iqr, "outliers": out}


def same(a, b) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-12)


# ---- summarise: deterministic ----------------------------------------------------------

SAMPLE_SETS = {
    "one sample": [3.0],
    "two samples": [1.0, 4.0],
    "7 unsorted": [5.0, 1.0, 9.0, 2.0, 2.0, 7.0, 30.0],
    "200 log-normal with a slow tail": list(np.exp(np.random.default_rng(0).normal(
        1.0, 0.3, 200))) + [40.0, 55.0],
}


@pytest.mark.parametrize("case", list(SAMPLE_SETS))
def test_summarise_matches_numpy(solution, case):
    samples = list(SAMPLE_SETS[case])
    given = list(samples)
    got = solution.summarise(given)
    assert given == samples, f"summarise({case}) modified the samples it was given"
    want = oracle(samples)
    assert isinstance(got, dict) and set(got) == set(want), (
        f"summarise must return a dict with exactly the keys {sorted(want)}, got "
        f"{sorted(got) if isinstance(got, dict) else type(got).__name__}")
    for key in ("median", "p90", "iqr"):
        assert isinstance(got[key], float), f"summarise({case})[{key!r}] must be a float"
        assert same(got[key], want[key]), (
            f"summarise({case}): {key} = {got[key]!r}, numpy.percentile (linear interpolation) "
            f"gives {want[key]!r}" + (" — p90 is the interpolated 90th percentile, not the "
                                      "nearest-rank one" if key == "p90" else ""))
    assert type(got["outliers"]) is int, (
        f"summarise({case})['outliers'] must be a Python int, got {type(got['outliers']).__name__}"
        " (a numpy integer is not one, and json.dumps rejects it)")
    assert got["outliers"] == want["outliers"], (
        f"summarise({case}): {got['outliers']!r} outliers, the Tukey rule (below Q1 - 1.5 IQR "
        f"or above Q3 + 1.5 IQR) counts {want['outliers']}")


FENCES = {
    # Q1 = 10, Q3 = 11, IQR = 1: fences at 8.5 and 12.5, exactly representable
    "a sample exactly on the upper fence": ([10.0] * 4 + [11.0] * 4 + [12.5], 0),
    "a sample just above the upper fence": ([10.0] * 4 + [11.0] * 4 + [12.500001], 1),
    "a sample exactly on the lower fence": ([8.5] + [10.0] * 4 + [11.0] * 4, 0),
    "a sample just below the lower fence": ([8.499999] + [10.0] * 4 + [11.0] * 4, 1),
}


@pytest.mark.parametrize("case", list(FENCES))
def test_outlier_fences_are_exclusive(solution, case):
    samples, want = FENCES[case]
    got = solution.summarise(list(samples))["outliers"]
    assert got == want, (
        f"summarise with {case}: {got} outlier(s), expected {want} — a sample is an outlier "
        "only strictly outside the fences Q1 - 1.5·IQR and Q3 + 1.5·IQR; one on a fence is not")


# ---- run_suite: one run, traced ---------------------------------------------------------


@pytest.fixture(scope="module")
def run(solution, tmp_path_factory):
    """Runs the suite once with graders.bench.Measurement traced: (records returned, log
    lines, measurements made during the call, start, end)."""
    log = tmp_path_factory.mktemp("log") / "bench.jsonl"
    log.write_text(json.dumps(OLD_LINE) + "\n", encoding="utf-8")
    made = []
    original = graders.bench.Measurement

    class Traced(original):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    graders.bench.Measurement = Traced
    start = datetime.now().astimezone()
    try:
        records = solution.run_suite(suite_cases(), log)
    finally:
        graders.bench.Measurement = original
    end = datetime.now().astimezone()
    lines = log.read_text(encoding="utf-8").splitlines()
    return records, lines, made, start, end


def records_of(run):
    records = run[0]
    if not isinstance(records, list) or len(records) != len(suite_cases()):
        pytest.fail(f"run_suite must return a list with one record per case "
                    f"({len(suite_cases())}), got {type(records).__name__} "
                    f"{len(records) if isinstance(records, list) else ''}", pytrace=False)
    for r in records:
        if not isinstance(r, dict) or set(r) != KEYS:
            got = sorted(r) if isinstance(r, dict) else type(r).__name__
            pytest.fail(f"a record must be a dict with exactly the keys {sorted(KEYS)}; got "
                        f"{got}", pytrace=False)
    return records


def test_the_log_is_appended_to_as_json_lines(run):
    records, lines = records_of(run), run[1]
    if not lines or lines[0] != json.dumps(OLD_LINE):
        pytest.fail("run_suite overwrote the log: the line already in the file is gone — open "
                    "it for appending ('a'), a benchmark log keeps earlier runs", pytrace=False)
    assert len(lines) == 1 + len(records), (
        f"the log has {len(lines) - 1} new line(s) for {len(records)} cases: one JSON object "
        "per line, one line per case")
    for i, (line, record) in enumerate(zip(lines[1:], records, strict=True)):
        try:
            logged = json.loads(line)
        except ValueError as e:
            pytest.fail(f"new log line {i + 1} is not JSON ({e})", pytrace=False)
        if logged != record:
            pytest.fail(f"new log line {i + 1} differs from the record run_suite returned for "
                        f"{record.get('name')!r}: log what you return", pytrace=False)


def test_records_follow_the_schema(run):
    records = records_of(run)
    fingerprint = this_machine().fingerprint
    for case, r in zip(suite_cases(), records, strict=True):
        what = f"record {case['name']!r}"
        assert r["name"] == case["name"], f"{what}: name {r['name']!r}, cases are logged in order"
        assert r["params"] == case["params"], f"{what}: params {r['params']!r} != the case's"
        assert r["unit"] == "us", f"{what}: unit must be 'us' (times in microseconds)"
        assert isinstance(r["n"], int) and isinstance(r["block"], int) and r["block"] >= 1, (
            f"{what}: n and block must be ints (block >= 1)")
        samples = r["samples"]
        assert isinstance(samples, list) and len(samples) == r["n"] >= 5, (
            f"{what}: samples must be a list of n (>= 5) numbers; n = {r['n']!r}")
        assert all(isinstance(s, float) and s > 0 for s in samples), (
            f"{what}: every sample must be a positive float")
        assert type(r["outliers"]) is int, f"{what}: outliers must be a Python int"
        assert r["hardware"] == fingerprint, (
            f"{what}: hardware {r['hardware']!r} is not this machine's fingerprint "
            f"({fingerprint!r}, hardware.detect.this_machine().fingerprint)")


def test_timestamps_are_utc_and_of_this_run(run):
    records = records_of(run)
    start, end = run[3], run[4]
    for r in records:
        try:
            t = datetime.fromisoformat(r["timestamp"])
        except (TypeError, ValueError):
            pytest.fail(f"timestamp {r['timestamp']!r} is not ISO 8601", pytrace=False)
        assert t.tzinfo is not None and t.utcoffset() == timedelta(0), (
            f"timestamp {r['timestamp']!r} must be UTC with its offset stated (+00:00 or Z): "
            "a naive local time cannot be compared across machines")
        assert start - timedelta(seconds=2) <= t <= end + timedelta(seconds=2), (
            f"timestamp {r['timestamp']} is not the time of this run ({start:%H:%M:%S}–"
            f"{end:%H:%M:%S})")


def test_samples_are_the_raw_samples_of_bench_measure(run):
    records, made = records_of(run), run[2]
    assert made, ("run_suite made no graders.bench.measure call: time each case with the "
                  "project's harness (from graders.bench import measure)")
    for r in records:
        match = [m for m in made if m.n == r["n"] and m.block == r["block"]
                 and all(math.isclose(s * 1e6, x, rel_tol=1e-12)
                         for s, x in zip(m.samples_s, r["samples"], strict=True))]
        if not match:
            near = [m for m in made if m.n == r["n"]]
            why = ""
            if near and all(math.isclose(s, x, rel_tol=1e-12)
                            for s, x in zip(near[0].samples_s, r["samples"], strict=True)):
                why = " — they are in seconds, the log's unit is microseconds (×1e6)"
            pytest.fail(f"record {r['name']!r}: the samples are not the per-call samples of a "
                        f"graders.bench.measure call (samples_s × 1e6, in measure's order, with "
                        f"its block){why}", pytrace=False)
        if not any(m.name == r["name"] and m.mem_method == "" for m in match):
            pytest.fail(f"record {r['name']!r}: its samples come from a graders.bench.measure "
                        f"call without name={r['name']!r} and memory=False (got name "
                        f"{match[0].name!r}, memory reading {match[0].mem_method or 'off'!r}): "
                        "call it as the spec says", pytrace=False)


def test_logged_statistics_recompute_from_the_samples(run):
    for r in records_of(run):
        want = oracle(r["samples"])
        for key in ("median", "p90", "iqr"):
            assert isinstance(r[key], float) and same(r[key], want[key]), (
                f"record {r['name']!r}: {key} = {r[key]!r}, but its own samples give "
                f"{want[key]!r} (numpy.percentile, linear interpolation)")
        assert r["outliers"] == want["outliers"], (
            f"record {r['name']!r}: {r['outliers']} outliers logged, its samples have "
            f"{want['outliers']} outside the Tukey fences")


def test_medians_agree_with_the_graders_measurement(run, bench, record_metric):
    records = records_of(run)
    far = []
    for case, r in zip(suite_cases(), records, strict=True):
        m = bench.measure(case["fn"], *case["args"], name=case["name"], max_time_s=0.5,
                          memory=False)
        ratio = r["median"] / (m.median_s * 1e6)
        record_metric(f"{case['name']}: learner/grader median", ratio, unit="x",
                      target=f"{1 / AGREE:.2f}-{AGREE:g}",
                      verdict="PASS" if 1 / AGREE <= ratio <= AGREE else "FAIL")
        if not 1 / DISAGREE <= ratio <= DISAGREE:
            pytest.fail(f"{case['name']}: the logged median is {r['median']:.4g} us, the "
                        f"grader measures {m.median_s * 1e6:.4g} us per call in the same run "
                        f"({ratio:.3g}x). Samples are seconds per call (measure divides by the "
                        "block) and the log is in microseconds", pytrace=False)
        if not 1 / AGREE <= ratio <= AGREE:
            far.append(f"{case['name']} ({ratio:.2f}x)")
    if far:
        raise Inconclusive(f"medians off by more than {AGREE:g}x but less than {DISAGREE:g}x "
                           f"from the grader's: {', '.join(far)} — a busy machine? re-run")


# ---- the dashboard ----------------------------------------------------------------------


def parse_table(text: str) -> list[list[str]]:
    rows = [line.strip() for line in text.splitlines() if line.strip().startswith("|")]
    return [[c.strip() for c in row.strip("|").split("|")] for row in rows]


def expected_rows(records) -> list[list[str]]:
    fastest = min(r["median"] for r in records)
    return [[r["name"], ", ".join(f"{k}={r['params'][k]}" for k in sorted(r["params"])),
             str(r["n"]), f"{r['median']:.2f}", f"{r['p90']:.2f}", f"{r['iqr']:.2f}",
             str(r["outliers"]), f"{r['median'] / fastest:.2f}x"] for r in records]


def check_table(text, records, what):
    assert isinstance(text, str), f"dashboard must return a str, got {type(text).__name__}"
    table = parse_table(text)
    if len(table) < 2 or table[0] != HEADER:
        pytest.fail(f"{what}: the first table row must be | {' | '.join(HEADER)} |, got "
                    f"{'| ' + ' | '.join(table[0]) + ' |' if table else 'no table'}",
                    pytrace=False)
    assert all(re.fullmatch(r":?-{3,}:?", c) for c in table[1]) and len(table[1]) == 8, (
        f"{what}: the second row must be the separator |---|---|…| (8 cells)")
    rows, want = table[2:], expected_rows(records)
    assert len(rows) == len(want), f"{what}: {len(rows)} data rows for {len(want)} records"
    for got, exp in zip(rows, want, strict=True):
        for col, g, e in zip(HEADER, got, exp, strict=False):
            if g != e:
                hint = (" (median / the smallest median, 2 decimals and 'x')"
                        if col == "vs fastest" else "")
                pytest.fail(f"{what}, row {exp[0]!r}, column {col!r}: {g!r}, expected "
                            f"{e!r}{hint}", pytrace=False)
        assert len(got) == len(exp), f"{what}, row {exp[0]!r}: {len(got)} cells, expected 8"


def known_records():
    base = {"unit": "us", "block": 1, "samples": [1.0], "hardware": "x",
            "timestamp": "2026-01-01T00:00:00+00:00"}
    return [
        {**base, "name": "slow one", "params": {"n": 10, "dtype": "float32"}, "n": 40,
         "median": 12.345, "p90": 20.0, "iqr": 0.005, "outliers": 3},
        {**base, "name": "fast one", "params": {}, "n": 7, "median": 4.0, "p90": 4.4444,
         "iqr": 1.0, "outliers": 0},
        {**base, "name": "middle", "params": {"b": "x"}, "n": 1000, "median": 6.1,
         "p90": 7.0, "iqr": 2.5, "outliers": 12},
    ]


def test_dashboard_of_known_records(solution):
    records = known_records()
    before = json.dumps(records)
    text = solution.dashboard(records)
    assert json.dumps(records) == before, "dashboard modified the records it was given"
    check_table(text, records, "dashboard(known records)")


def test_dashboard_of_the_logged_run(solution, run):
    records = records_of(run)
    check_table(solution.dashboard(records), records, "dashboard(run_suite's records)")

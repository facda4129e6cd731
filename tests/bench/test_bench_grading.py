"""Benchmarks end to end: a grader's `bench` fixture in the sandboxed child, the verdicts it
gives, the results in progress.db (fingerprint, git HEAD, samples), and `mltrack status`."""

from __future__ import annotations

import json
import textwrap

import pytest
from typer.testing import CliRunner

from hardware.detect import detect
from tests.conftest import git
from tracker.cli.app import app
from tracker.store.benchstore import bench_records, bench_samples, record_hardware
from tracker.store.outputs import SAMPLES_MAX

TIMED_TOML = """
id = "timed"
title = "Make it fast"
api = ["fast"]
hints = ["Do less.", "Much less."]

[[targets]]
metric = "fast_speedup"
kind = "speedup"
min = 1.5

[[targets]]
metric = "fast_latency"
kind = "latency"
unit = "ms"
by_class = { rpi5 = 50 }
fallback = 1000

[[targets]]
metric = "pi_latency"
kind = "latency"
unit = "ms"
by_class = { rpi5 = 50 }
"""

TIMED_GRADER = '''
def work(n):
    total = 0
    for i in range(n):
        total += i
    return total


def slow():
    return work(6_000)


def test_faster_than_the_slow_version(solution, bench):
    c = bench.compare(slow, solution.fast, name="fast vs slow")
    bench.check(c, "fast_speedup")


def test_latency_here(solution, bench):
    m = bench.measure(solution.fast, name="fast")
    bench.check(m, "fast_latency")


def test_latency_on_a_pi(solution, bench):
    m = bench.measure(solution.fast, name="fast on a pi", max_time_s=0.2)
    bench.check(m, "pi_latency")
'''

TIMED_SOLUTION = '''
def fast():
    total = 0
    for i in range(3_000):
        total += i
    return total
'''

NOISY_TOML = """
id = "noisy"
title = "A measurement that cannot decide"
api = ["f"]
hints = ["Wait.", "Re-run."]

[[targets]]
metric = "speed"
kind = "speedup"
min = 1.5
"""

NOISY_GRADER = '''
from graders.bench import Comparison


def test_speed(solution, bench):
    solution.f()
    c = Comparison.from_ratios([1.2, 1.4, 1.5, 1.6, 1.8, 1.45, 1.55, 1.5], name="f vs baseline")
    bench.check(c, "speed")
'''

PLAN_DAYS = """
[[phases]]
number = 3
title = "Speed"

[[phases.days]]
day = 8
title = "Make it fast"
challenge = "timed"

[[phases.days]]
day = 9
title = "A measurement that cannot decide"
challenge = "noisy"
"""


def add_challenge(ws, cid: str, toml: str, grader: str, solution: str) -> None:
    folder = ws.challenges_dir / cid
    (folder / "reference").mkdir(parents=True)
    (folder / "challenge.toml").write_text(textwrap.dedent(toml))
    (folder / f"test_{cid}.py").write_text(grader)
    (folder / "spec.md").write_text(f"# {cid}\n")
    (folder / "starter.py").write_text("def f():\n    raise NotImplementedError\n")
    (folder / "reference" / "solution.py").write_text(solution)


@pytest.fixture
def course(workspace, write_solution):
    add_challenge(workspace, "timed", TIMED_TOML, TIMED_GRADER, TIMED_SOLUTION)
    add_challenge(workspace, "noisy", NOISY_TOML, NOISY_GRADER, "def f():\n    return 1\n")
    plan = workspace.plans_dir / "mini.toml"
    plan.write_text(plan.read_text() + PLAN_DAYS)
    git(workspace.root, "add", "-A")
    git(workspace.root, "commit", "-q", "-m", "timed challenges")
    write_solution("timed", TIMED_SOLUTION)
    write_solution("noisy", "def f():\n    return 1\n")
    return workspace


def cli(ws, *args):
    return CliRunner().invoke(app, ["--workspace", str(ws.root), *args])


def test_benchmarks_go_from_the_grader_to_the_db_and_status(course, tracker):
    machine = detect()
    record_hardware(tracker.store, machine.to_dict(), {"score": 0.5})  # as `mltrack hw` does
    head = git(course.root, "rev-parse", "HEAD")
    outcome = tracker.grade("day8", commit=False)
    r = outcome.result
    outcome_by_name = {c.name: c for c in r.cases}
    assert r.verdict == "passed", r.message
    assert outcome_by_name["test_latency_on_a_pi"].outcome == "skipped"
    assert "no latency target for x86-cpu" in outcome_by_name["test_latency_on_a_pi"].message \
        or machine.cls.id != "x86-cpu"
    assert r.hardware["fingerprint"] == machine.fingerprint

    rows = {row.name: row for row in bench_records(tracker.store, attempt_id=outcome.attempt_id)}
    assert set(rows) == {"fast vs slow", "fast", "fast on a pi"}
    speed = rows["fast vs slow"]
    assert (speed.fingerprint, speed.hw_class, speed.git_head) == (
        machine.fingerprint, machine.cls.id, head)
    assert speed.verdict == "PASS" and speed.target == ">= 1.5×"
    assert 1.6 <= speed.value <= 2.4 and speed.low <= speed.value <= speed.high
    # every sample is kept, thinned evenly to SAMPLES_MAX on a fast machine
    assert len(bench_samples(speed)["ratios"]) == min(json.loads(speed.stats)["rounds"],
                                                      SAMPLES_MAX)
    latency = rows["fast"]
    assert "calibration score 0.50" in latency.target  # the stored score reached the child
    assert latency.verdict == "PASS" and latency.unit == "s"
    assert len(bench_samples(latency)["samples_s"]) == min(json.loads(latency.stats)["n"],
                                                           SAMPLES_MAX)
    assert rows["fast on a pi"].verdict == ""  # measured and recorded, not judged here

    status = cli(course, "status", "--json")
    assert status.exit_code == 0, status.output
    figures = json.loads(status.output)["benchmarks"]["day8"]
    assert {b["name"] for b in figures} == set(rows)
    assert all("samples" not in b for b in figures)
    text = cli(course, "status")
    assert "latest benchmarks" in text.output and "PASS" in text.output


def test_an_undecidable_measurement_is_inconclusive_never_a_pass_or_a_failure(course):
    done = cli(course, "grade", "day9", "--no-commit")
    assert done.exit_code == 3, done.output  # no verdict possible here
    assert "INCONCLUSIVE" in done.output and "re-run" in done.output
    data = json.loads(cli(course, "status", "--json").output)
    day9 = next(d for d in data["days"] if d["day"] == 9)
    assert day9["status"] == "inconclusive"
    [figure] = data["benchmarks"]["day9"]
    assert figure["verdict"] == "INCONCLUSIVE" and figure["low"] < 1.5 < figure["high"]
    again = cli(course, "grade", "day9", "--no-commit")  # and it can be re-run
    assert again.exit_code == 3


def test_a_grade_json_lists_the_benchmarks_without_raw_samples(course):
    done = cli(course, "grade", "day8", "--json", "--no-commit")
    data = json.loads(done.output)
    assert done.exit_code == 0, data["message"]
    names = {b["name"] for b in data["benchmarks"]}
    assert names == {"fast vs slow", "fast", "fast on a pi"}
    assert all("samples" not in b for b in data["benchmarks"])
    assert any(m["name"] == "fast vs slow speed-up" and m["verdict"] == "PASS"
               for m in data["metrics"])

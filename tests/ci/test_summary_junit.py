"""The job summary and the JUnit file for days with benchmark figures, a tampered day and
a day left to a self-hosted runner (built from results, without grading)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from graders.results import BenchResult, CaseResult, GradeResult, Metric, Outcome, Verdict
from tracker import junit, summary
from tracker.ci import Batch, DayRun
from tracker.engine import GradeOutcome, Target
from tracker.plan import load_plan
from tracker.workspace import Workspace


def batch(workspace: Workspace) -> Batch:
    from tracker.catalog import Catalog

    plan = load_plan(workspace.plans_dir / "mini.toml")
    add = Catalog(workspace.challenges_dir).get("add")
    result = GradeResult(
        "add", Verdict.PASSED, "all 2 checks passed",
        [CaseResult("test_add.py::test_small", Outcome.PASSED, 0.01),
         CaseResult("test_add.py::test_fast", Outcome.PASSED, 1.2)],
        [Metric("add speed-up", 1.8, "x", ">= 1.5×", "PASS", {"hw_class": "x86-cpu"}),
         Metric("accuracy", 0.93, "", ">= 0.9", "PASS")],
        duration_s=2.0,
        benches=[BenchResult("test_add.py::test_fast", "add", "compare", 1.8, "x", 1.6, 2.0,
                             ">= 1.5×", "PASS", hw_class="x86-cpu"),
                 BenchResult("test_add.py::test_fast", "add latency", "measure", 2.5e-3, "s",
                             target="<= 3 ms", verdict="", valid=False, hw_class="x86-cpu")])
    passed = DayRun("day1", 1, "add", "Add two numbers", "mini",
                    outcome=GradeOutcome(Target(plan, plan.days[0], add), result),
                    verdict="passed")
    tampered = DayRun("day8", 8, "close", "Root | two", "mini", verdict="error",
                      reason="not graded: course files differ from the manifest: "
                             "challenges/close/test_close.py (modified)",
                      tampered=["challenges/close/test_close.py (modified)"])
    routed = DayRun("day3", 3, "gpu-only", "GPU", "mini", ("nvidia-gpu",), verdict="skipped",
                    reason="needs nvidia-gpu: graded on a self-hosted runner with that "
                           "hardware, not here")
    return Batch("mini", "changed", "0123456789abcdef", True, [passed, tampered, routed])


def test_the_summary_tables_days_and_benchmarks_against_targets(workspace):
    text = summary.markdown(batch(workspace))
    assert text.startswith("## ❌ mltrack — 3 days: 1 passed, 1 failed, 1 skipped\n")
    assert "graded: days changed since `0123456789ab`" in text
    assert "| day1 | Add two numbers | ✅ passed | 2/2 | 2.0 s | all 2 checks passed |" in text
    assert "| day8 | Root \\| two | ❌ error | — | — | not graded: course files differ" in text
    assert "| day3 | GPU | ⏭️ skipped | — | — | needs nvidia-gpu: graded on a self-hosted" in text
    assert "| day1 | add | 1.8× | 1.6× – 2× | >= 1.5× | PASS | x86-cpu |" in text
    assert "| day1 | add latency | 2.5 ms | — | <= 3 ms | noisy | x86-cpu |" in text
    assert "| day1 | accuracy | 0.93 | — | >= 0.9 | PASS | — |" in text
    assert "add speed-up" not in text  # the benchmark's own figure is not listed twice
    assert "- `challenges/close/test_close.py (modified)`" in text


def test_junit_counts_a_tampered_day_as_an_error_and_a_routed_one_as_skipped(workspace):
    root = ET.fromstring(junit.to_xml(batch(workspace)))
    assert (root.get("tests"), root.get("errors"), root.get("skipped")) == ("4", "1", "1")
    day1, day8, day3 = root.findall("testsuite")
    props = {p.get("name"): p.get("value") for p in day1.iter("property")}
    assert props["benchmark: add"] == "1.8x, target >= 1.5×, PASS, on x86-cpu"
    assert props["verdict"] == "passed" and props["metric: accuracy"].startswith("0.93")
    assert day8.find("testcase/error").text == "challenges/close/test_close.py (modified)"
    assert day3.find("testcase/skipped").get("message").startswith("needs nvidia-gpu")

"""The report's figures, computed from a known history (see conftest.history)."""

from __future__ import annotations

import json

import pytest

from tracker import report
from tracker.report.data import longest_streak, target_value


@pytest.fixture
def data(history) -> dict:
    return report.build(history)


def test_completion_per_phase_and_overall(data):
    assert data["schema"] == "mltrack.report/1" and data["plan"]["id"] == "mini"
    o = data["overall"]
    assert (o["passed"], o["gradable"], o["percent"]) == (1, 2, 50.0)
    assert [(p["number"], p["passed"], p["gradable"], p["planned"], p["percent"])
            for p in data["phases"]] == [(1, 1, 1, 0, 100.0), (2, 0, 1, 1, 0.0)]


def test_attempts_time_and_hints_per_day(data):
    days = {d["label"]: d for d in data["days"]}
    add = days["day1"]
    assert (add["status"], add["attempts"], add["last_verdict"]) == ("passed", 5, "passed")
    assert (add["hints_used"], add["hints_total"]) == (1, 2)
    assert add["started_at"] == "2026-03-02T09:00:00+00:00"
    assert add["passed_at"] == "2026-03-03T15:30:00+00:00"
    assert add["time_to_pass_s"] == (24 + 6.5) * 3600
    assert add["grading_s"] > 4 * 2.5 and add["active_days"] == 2
    gpu = days["day3"]
    assert (gpu["status"], gpu["attempts"], gpu["hints_used"]) == ("skipped-hw", 1, 0)
    assert days["day4"]["status"] == "planned" and days["day2"]["kind"] == "rest"
    o = data["overall"]
    assert (o["attempts"], o["hints_used"], o["days_started"]) == (6, 1, 2)


def test_calendar_and_streaks(data):
    cal = data["calendar"]
    assert cal["end"] == "2026-03-05" and cal["weeks"] == 12
    assert cal["start"] == "2025-12-15"  # a Monday, 12 weeks back
    assert cal["days"] == [
        {"date": "2026-03-02", "attempts": 1, "passes": 0},
        {"date": "2026-03-03", "attempts": 4, "passes": 2},
        {"date": "2026-03-05", "attempts": 1, "passes": 0},
    ]
    assert cal["max_attempts"] == 4
    assert data["streaks"] == {"current": 1, "longest": 2, "today": "2026-03-05"}
    o = data["overall"]
    assert (o["active_days"], o["first_activity"], o["last_activity"]) == (
        3, "2026-03-02", "2026-03-05")


def test_benchmark_figures_with_targets_trends_and_hardware(data):
    add = next(d for d in data["days"] if d["label"] == "day1")
    series = {s["name"]: s for s in add["benchmarks"]}
    speed = series["add"]
    assert (speed["kind"], speed["unit"], speed["target"], speed["target_value"]) == (
        "benchmark", "x", ">= 1.5×", 1.5)
    assert [(p["value"], p["verdict"]) for p in speed["history"]] == [
        (1.1, "FAIL"), (1.4, "FAIL"), (1.8, "PASS")]
    assert speed["latest"]["hw_class"] == "x86-cpu" and speed["latest"]["low"] == pytest.approx(
        1.62)
    lat = series["add latency"]
    assert [(p["hw_class"], p["fingerprint"], p["device"]) for p in lat["history"]] == [
        ("x86-cpu", "fp-laptop", "cpu"), ("nvidia-ampere", "fp-gpu", "cuda")]
    assert lat["target_value"] == pytest.approx(3e-3)
    [accuracy] = add["metrics"]
    assert (accuracy["name"], accuracy["latest"]["value"], accuracy["target_value"]) == (
        "accuracy", 0.93, 0.9)
    assert accuracy["latest"]["hw_class"] == "x86-cpu"  # the machine its attempt ran on
    machines = {h["fingerprint"]: h for h in data["hardware"]}
    assert machines["fp-laptop"] == {
        "fingerprint": "fp-laptop", "class": "x86-cpu", "summary": "Laptop, i7-1165G7",
        "first_seen": "2026-03-02T09:00:00+00:00", "score": 1.0, "benchmarks": 4}
    assert (machines["fp-gpu"]["class"], machines["fp-gpu"]["benchmarks"]) == (
        "nvidia-ampere", 1)


def test_the_json_follows_its_documented_schema(data):
    jsonschema = pytest.importorskip("jsonschema")
    document = json.loads(report.render(data, "json"))
    jsonschema.validate(document, report.schema())
    assert report.schema()["properties"]["schema"]["const"] == report.SCHEMA


def test_an_empty_record_is_a_report_too(tracker):
    jsonschema = pytest.importorskip("jsonschema")
    data = report.build(tracker)
    jsonschema.validate(data, report.schema())
    assert data["overall"]["attempts"] == 0 and data["calendar"]["days"] == []
    for fmt in report.FORMATS:
        assert report.render(data, fmt)


@pytest.mark.parametrize("target,unit,value", [
    (">= 1.5×", "x", 1.5), ("<= 20 ms (class x86-cpu)", "s", 0.02), ("<= 3 µs", "s", 3e-6),
    (">= 0.9", "", 0.9), ("<= 512 MiB", "s", None), ("", "x", None), ("fast", "s", None),
])
def test_targets_are_put_on_the_figure_s_scale(target, unit, value):
    assert target_value(target, unit) == (pytest.approx(value) if value is not None else None)


def test_longest_streak():
    from datetime import date, timedelta

    start = date(2026, 1, 1)
    days = [start + timedelta(n) for n in (0, 1, 2, 5, 6, 9)]
    assert longest_streak(days) == 3 and longest_streak([]) == 0

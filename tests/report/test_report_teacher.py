"""The report as a teacher reads it: it names the learner, shows only the learner's own
machines, whole phase names with the rows they hold, words for figure names, no chart of a
single point nor an accuracy axis above 100 %, and the learner's notes."""

from __future__ import annotations

import re

from tracker import report
from tracker.report import svg
from tracker.report.fmt import figure
from tracker.store.benchstore import record_hardware


def test_the_report_names_the_learner_from_git_or_as_given(history):
    data = report.build(history)
    assert data["learner"] == "Learner"  # the workspace's git user.name
    assert "<b class=\"learner\">Learner</b>" in report.render(data, "html")
    named = report.build(history, learner="Ada Lovelace")
    assert named["learner"] == "Ada Lovelace"
    assert report.render(named, "md").splitlines()[2].startswith("**Ada Lovelace**")


def test_a_machine_without_the_learners_benchmarks_is_not_shown(history):
    other = {"fingerprint": "fp-dev", "class": {"id": "x86-cpu"}, "summary": "Dev box, Xeon"}
    record_hardware(history.store, other, {"score": 1.67})  # e.g. shipped in progress.db
    data = report.build(history)
    assert "fp-dev" not in {h["fingerprint"] for h in data["hardware"]}
    assert "Dev box" not in report.render(data, "html")


def test_phase_names_are_whole_and_say_which_rows_they_hold(history):
    phases = report.build(history)["phases"]
    phases[0]["title"] = "Novel Contributions & Advanced Topics, at length"
    drawn = svg.phase_bars(phases)
    assert "Phase 1: Novel Contributions &amp; Advanced Topics, at length" in drawn
    assert "days 1–2" in drawn and "…" not in drawn


def test_a_figure_measured_once_is_not_a_chart_and_names_are_words(history):
    text = report.render(report.build(history), "html")
    card = text[text.index("day1 · accuracy"):]
    card = card[:card.index("</div>")]
    assert "<svg" not in card and "one attempt so far" in card
    assert "fp32_accuracy" not in text


def test_an_accuracy_axis_stops_at_100_percent():
    series = {"name": "test accuracy", "unit": "", "target": ">= 0.9", "target_value": 0.9,
              "history": [{"value": v, "valid": True, "attempt_id": i, "verdict": "PASS"}
                          for i, v in enumerate((0.97, 1.0))]}
    drawn = svg.trend(series, figure)
    top = 12  # the plot's top edge (svg.trend)
    ys = [float(y) for y in re.findall(r'<circle class="mark" cx="[^"]+" cy="([^"]+)"', drawn)]
    assert min(ys) == top  # 100 % is the top of the axis, nothing drawn above it


def test_notes_are_shown_in_the_report(history):
    history.store.add_note(plan="mini", day=1, text="Used the + operator in the end.")
    history.store.mark_day_done(plan="mini", day=2)
    history.store.add_note(plan="mini", day=2, text="Read the chapter on sums.")
    data = report.build(history)
    days = {d["label"]: d for d in data["days"]}
    assert days["day2"]["done"] and days["day2"]["notes"][0]["text"] == "Read the chapter on sums."
    html = report.render(data, "html")
    assert "Used the + operator in the end." in html and "Read the chapter on sums." in html
    assert "- **day2** · Rest day (done)" in report.render(data, "md")


def test_points_are_counted_per_day_phase_and_overall(history):
    data = report.build(history)
    assert [(p["points"], p["points_possible"]) for p in data["phases"]] == [(10, 10), (0, 10)]
    assert (data["overall"]["points"], data["overall"]["points_possible"]) == (10, 20)
    assert "10/20" in report.render(data, "html")

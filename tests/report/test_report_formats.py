"""The report's three renderings and `mltrack report`: Markdown that GitHub renders, one
self-contained HTML file, and JSON on disk."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from tests.cli.test_subprocess import run_mltrack
from tracker import report


@pytest.fixture
def data(history) -> dict:
    return report.build(history)


def test_markdown_tables_parse_as_gfm_tables_with_every_cell_in_place(data):
    markdown_it = pytest.importorskip("markdown_it")
    text = report.render(data, "md")
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(text)
    tables = re.findall(r"<table>(.*?)</table>", html, re.S)
    assert len(tables) == 5  # overview, phases, days, figures, hardware
    for table in tables:
        head = len(re.findall(r"<th[ >]", table))
        rows = re.findall(r"<tr>(.*?)</tr>", re.search(r"<tbody>(.*)</tbody>", table, re.S)[1],
                          re.S)
        assert rows and all(len(re.findall(r"<td[ >]", r)) == head for r in rows)


def test_markdown_shows_completion_activity_days_trends_and_hardware(data):
    text = report.render(data, "md")
    assert "**1 of 2 gradable days passed (50.0%)**" in text
    assert "| 1 · Basics · days 1–2 | 1/1 (10/10 pts) | `██████████` 100% |" in text
    assert "| 2 · Hardware · days 3–7 | 0/1 (0/10 pts) (+1 without a grader yet) | " \
        "`░░░░░░░░░░` 0% |" in text
    heat = text[text.index("```text") + 8:text.index("```", text.index("```text") + 8)]
    rows = heat.splitlines()
    assert [r[:3] for r in rows[1:8]] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert rows[1].endswith("░") and rows[2].endswith("█") and rows[4].endswith("░")
    assert "| day1 | Add two numbers | ✅ passed | 5 | 30 h 30 min |" in text
    assert "| 1/2 |" in text  # hints used of hints available
    assert "| day1 | add | 1.8× | >= 1.5× | PASS | `▁▄█` 1.1× → 1.8× | x86-cpu |" in text
    assert "| day1 | add latency | 900 µs | <= 3 ms (class x86-cpu) | PASS | `█▁` 2.5 ms " \
           "(x86-cpu) → 900 µs (nvidia-ampere) | x86-cpu, nvidia-ampere |" in text  # unlike
    assert "| Laptop, i7-1165G7 | x86-cpu | `fp-laptop` | 1.00 | 4 |" in text


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_html_is_one_self_contained_file_with_inline_svg_charts(data):
    text = report.render(data, "html")
    parser = _Tags()
    parser.feed(text)
    tags = [t for t, _ in parser.tags]
    assert "script" not in tags and "link" not in tags and "img" not in tags
    assert not re.search(r"(src|href)\s*=", text) and "url(" not in text and "@import" not in text
    charts = [a["data-chart"] for t, a in parser.tags if t == "svg"]
    # the accuracy was measured once: a figure, not a one-point chart
    assert charts == ["phases", "heatmap", "trend", "trend"]
    assert "one attempt so far" in text
    assert "@media print" in text and 'charset="utf-8"' in text
    assert "measured on x86-cpu, nvidia-ampere" in text


def test_the_report_command_writes_each_format(workspace, write_solution, tmp_path):
    write_solution("add", "add_pass")
    assert run_mltrack(workspace, "grade", "day1").returncode == 0
    for fmt in ("md", "html", "json"):
        out = tmp_path / f"report.{fmt}"
        done = run_mltrack(workspace, "report", "--format", fmt, "-o", str(out))
        assert done.returncode == 0, done.stderr
        assert out.stat().st_size > 500
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["overall"]["passed"] == 1 and data["days"][0]["attempts"] == 1
    shown = run_mltrack(workspace, "report", "--plan", "mini")
    assert shown.returncode == 0 and shown.stdout.startswith("# Progress report — Mini course")
    unknown = run_mltrack(workspace, "report", "--plan", "nope")
    assert unknown.returncode == 2 and "unknown plan 'nope'" in unknown.stderr

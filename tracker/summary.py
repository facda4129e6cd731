"""A Markdown summary of a batch of grades (tracker.ci.Batch), e.g. for GitHub's job
summary ($GITHUB_STEP_SUMMARY): a table of days and verdicts, the benchmark figures
against their targets, what was not graded and why, and course files that differ from the
manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tracker.report.fmt import figure

MARK = {"passed": "✅", "failed": "❌", "error": "❌", "timeout": "⏱️", "crashed": "💥",
        "skipped": "⏭️", "inconclusive": "❔"}


def cell(text: Any) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped, bounded."""
    value = " ".join(str(text).split()).replace("|", "\\|")
    return value if len(value) <= 160 else value[:157] + "…"


def headline(batch) -> str:
    c = batch.counts()
    if not batch.days:
        return "nothing to grade"
    parts = [f"{c['passed']} passed"]
    for key in ("failed", "skipped", "inconclusive"):
        if c.get(key):
            parts.append(f"{c[key]} {key}")
    days = "day" if c["selected"] == 1 else "days"
    return f"{c['selected']} {days}: " + ", ".join(parts)


def markdown(batch) -> str:
    ok = batch.exit_code == 0
    lines = [f"## {'✅' if ok else '❌'} mltrack — {headline(batch)}", ""]
    how = {"changed": f"days changed since `{(batch.since or '')[:12]}`",
           "all": "every started day", "day": "one day"}.get(batch.mode, batch.mode)
    context = [f"graded: {how}", f"plan `{batch.plan}`"]
    if batch.ci:
        context.append("regraded from the sources (progress.db is not read)")
    v = batch.verification
    if v is not None:
        context.append(f"course files {'match' if v.ok else '**differ from**'} "
                       f"`{v.manifest}` ({v.checked} files)")
    lines += [" · ".join(context), ""]
    if batch.days:
        lines += ["| Day | Title | Verdict | Checks | Time | Message |",
                  "|---|---|---|---|---|---|"]
        for run in batch.days:
            r = run.outcome.result if run.outcome else None
            checks = f"{r.passed}/{r.total}" if r else "—"
            time = f"{r.duration_s:.1f} s" if r else "—"
            mark = MARK.get(run.verdict, "")
            lines.append(f"| {cell(run.label)} | {cell(run.title)} | {mark} {run.verdict} | "
                         f"{checks} | {time} | {cell(run.message)} |")
        lines.append("")
    lines += _benchmarks(batch)
    problems = sorted({p for run in batch.days for p in run.tampered}
                      | set(v.problems() if v is not None else []))
    if problems:
        lines += ["### Course files that differ from the manifest", "",
                  "A grade can only be trusted against the course's own graders; restore "
                  "these files (or, as a course author, run `mltrack verify --update`).", ""]
        lines += [f"- `{p}`" for p in problems] + [""]
    if batch.changed_during:
        lines += ["### Files changed while grading (course files or the Python environment)",
                  ""]
        lines += [f"- `{p}`" for p in batch.changed_during] + [""]
    return "\n".join(lines)


def _benchmarks(batch) -> list[str]:
    rows = []
    for run in batch.days:
        if not run.outcome:
            continue
        for b in run.outcome.to_dict()["benchmarks"]:
            ci = (f"{figure(b['low'], b['unit'])} – {figure(b['high'], b['unit'])}"
                  if b.get("low") is not None else "—")
            verdict = b["verdict"] or ("recorded" if b["valid"] else "noisy")
            rows.append(f"| {cell(run.label)} | {cell(b['name'])} | "
                        f"{figure(b['value'], b['unit'])} | {ci} | {cell(b['target'] or '—')} | "
                        f"{verdict} | {cell(b['hw_class'] or '—')} |")
        for m in run.outcome.result.metrics:
            if m.details.get("hw_class") is not None:
                continue  # the figure of a benchmark listed above
            rows.append(f"| {cell(run.label)} | {cell(m.name)} | {figure(m.value, m.unit)} | — | "
                        f"{cell(m.target or '—')} | {m.verdict or 'recorded'} | — |")
    if not rows:
        return []
    return ["### Benchmarks", "", "| Day | Benchmark | Value | 95% CI | Target | Verdict | "
            "Hardware |", "|---|---|---|---|---|---|---|", *rows, ""]


def append(batch, path: Path) -> Path:
    """Append the summary to `path` (GitHub's step summary file is appended to)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(markdown(batch) + "\n")
    return path

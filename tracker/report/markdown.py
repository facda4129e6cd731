"""The report as GitHub-flavoured Markdown: tables, a text heatmap in a code block, and
sparklines for the trends (GitHub does not draw inline SVG in Markdown)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tracker.report.fmt import bar, duration, figure, machines, sparkline

HEAT = "·░▒▓█"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
STATUS = {"passed": "✅ passed", "failed": "❌ failed", "in-progress": "🔧 in progress",
          "skipped-hw": "⏭️ hardware skipped", "inconclusive": "❔ inconclusive",
          "not-started": "not started", "planned": "no grader yet"}


def cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def heatmap(calendar: dict[str, Any]) -> list[str]:
    start = date.fromisoformat(calendar["start"])
    end = date.fromisoformat(calendar["end"])
    per_day = {d["date"]: d["attempts"] for d in calendar["days"]}
    peak = max(calendar["max_attempts"], 1)
    weeks = calendar["weeks"]
    months = [" "] * (2 * weeks + 3)  # two columns a week: a square and a space
    last = None
    for w in range(weeks):
        monday = start + timedelta(weeks=w)
        if monday.month != last:
            last = monday.month
            at = 2 * w
            if all(m == " " for m in months[max(at - 1, 0):at + 3]):
                months[at:at + 3] = list(monday.strftime("%b"))
    lines = ["    " + "".join(months).rstrip()]
    for weekday, name in enumerate(WEEKDAYS):
        row = []
        for w in range(weeks):
            day = start + timedelta(weeks=w, days=weekday)
            if day > end:
                row.append(" ")
                continue
            count = per_day.get(day.isoformat(), 0)
            level = 0 if not count else min(4, 1 + round(3 * (count - 1) / max(peak - 1, 1)))
            row.append(HEAT[level])
        lines.append(f"{name} " + " ".join(row).rstrip())
    lines.append(f"    less {HEAT} more   (attempts per day, {start} – {end})")
    return lines


def render(data: dict[str, Any]) -> str:
    plan, overall, streaks = data["plan"], data["overall"], data["streaks"]
    head = (data["git"]["head"] or "")[:10]
    learner = f"**{cell(data['learner'])}** · " if data.get("learner") else ""
    out = [f"# Progress report — {plan['title']} (`{plan['id']}`)", "",
           f"{learner}Generated {data['generated_at'][:16].replace('T', ' ')} UTC · mltrack "
           f"{data['mltrack']}" + (f" · git `{head}`" if head else "") +
           f" · schema `{data['schema']}`", ""]
    out += [f"**{overall['passed']} of {overall['gradable']} gradable days passed "
            f"({overall['percent']:.1f}%)** `{bar(overall['passed'], overall['gradable'], 20)}` · "
            f"{overall['points']}/{overall['points_possible']} points",
            "",
            "| Attempts | Grading time | Hints used | Active days | Current streak | "
            "Longest streak |", "|---:|---:|---:|---:|---:|---:|",
            f"| {overall['attempts']} | {duration(overall['grading_s'])} | "
            f"{overall['hints_used']} | {overall['active_days']} | {streaks['current']} d | "
            f"{streaks['longest']} d |", ""]

    out += ["## Completion by phase", "", "| Phase | Passed | Progress |", "|---|---:|---|"]
    for p in data["phases"]:
        planned = f" (+{p['planned']} without a grader yet)" if p["planned"] else ""
        rows = p.get("span", "") + (f" (curriculum: {p['curriculum']})" if p.get("curriculum")
                                    else "")
        out.append(f"| {p['number']} · {cell(p['title'])} · {cell(rows)} | "
                   f"{p['passed']}/{p['gradable']} ({p['points']}/{p['points_possible']} pts)"
                   f"{planned} | `{bar(p['passed'], p['gradable'])}` {p['percent']:.0f}% |")
    out.append("")

    out += ["## Activity", "", "```text", *heatmap(data["calendar"]), "```", ""]

    days = [d for d in data["days"] if d["kind"] == "challenge" and d["challenge"]]
    out += ["## Days", "", "| Day | Title | Status | Attempts | Time to pass | Grading time | "
            "Hints |", "|---|---|---|---:|---:|---:|---:|"]
    for d in days:
        hints = f"{d['hints_used']}/{d['hints_total']}" if d["hints_total"] is not None \
            else str(d["hints_used"])
        title = d["short_title"] + (f" ({d['curriculum']})" if d["curriculum"] else "")
        out.append(f"| {d['label']} | {cell(title)} | {STATUS.get(d['status'], d['status'])}"
                   f" | {d['attempts']} | {duration(d['time_to_pass_s'])} | "
                   f"{duration(d['grading_s']) if d['attempts'] else '—'} | {hints} |")
    out.append("")

    noted = [d for d in data["days"] if d["notes"]]
    if noted:
        out += ["## Notes", ""]
        for d in noted:
            out += [f"- **{d['label']}** · {cell(d['short_title'])}"
                    + (" (done)" if d["done"] else "")]
            out += [f"  - {cell(n['text'])} ({(n['at'] or '')[:10]})" for n in d["notes"]]
        out.append("")

    figures = [(d, s) for d in days for s in d["benchmarks"] + d["metrics"]]
    out += ["## Benchmarks and measured figures", ""]
    if figures:
        out += ["| Day | Figure | Latest | Target | Verdict | Trend over attempts | Hardware |",
                "|---|---|---:|---|---|---|---|"]
        for d, s in figures:
            latest = s["latest"]
            history = s["history"]
            values = [p["value"] for p in history]
            first, last = figure(values[0], s["unit"]), figure(values[-1], s["unit"])
            if len({p["hw_class"] for p in history}) > 1:  # not like with like: say so
                first += f" ({history[0]['hw_class']})"
                last += f" ({history[-1]['hw_class']})"
            trend = f"`{sparkline(values)}` {first} → {last}" if len(values) > 1 \
                else "one attempt"
            verdict = latest["verdict"] or ("recorded" if latest["valid"] else "noisy")
            name = cell(s["name"].replace("_", " "))
            out.append(f"| {d['label']} | {name} | {figure(latest['value'], s['unit'])}"
                       f" | {cell(s['target'] or '—')} | {verdict} | {trend} | "
                       f"{cell(machines(s))} |")
    else:
        out.append("No benchmark has been recorded yet.")
    out.append("")

    out += ["## Hardware", ""]
    if data["hardware"]:
        out += ["| Machine | Class | Fingerprint | Calibration score | Benchmarks |",
                "|---|---|---|---:|---:|"]
        for h in data["hardware"]:
            score = f"{h['score']:.2f}" if h["score"] is not None else "—"
            out.append(f"| {cell(h['summary'] or '—')} | {cell(h['class'])} | "
                       f"`{h['fingerprint']}` | {score} | {h['benchmarks']} |")
    else:
        out.append("No machine recorded yet (`mltrack hw` records this one).")
    out.append("")
    return "\n".join(out)

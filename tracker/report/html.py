"""The report as one self-contained HTML file: inline CSS and inline SVG charts, no
scripts, no fonts, images or styles from elsewhere, so it opens offline and prints."""

from __future__ import annotations

from html import escape
from typing import Any

from tracker.report import svg
from tracker.report.fmt import duration, figure, machines

STATUS = {"passed": "passed", "failed": "failed", "in-progress": "in progress",
          "skipped-hw": "hardware skipped", "inconclusive": "inconclusive",
          "not-started": "not started", "planned": "no grader yet"}

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1f2328; margin: 0 auto; padding: 24px; max-width: 1040px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 10px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
h3 { font-size: 14px; margin: 0 0 4px; }
.meta { color: #656d76; margin: 0 0 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 10px; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 12px; }
.card b { display: block; font-size: 20px; }
.card span { color: #656d76; font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaeef2;
         vertical-align: top; }
th { background: #f6f8fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { display: inline-block; white-space: nowrap; padding: 0 6px; border-radius: 10px;
          font-size: 12px; background: #eaeef2; }
.s-passed { background: #dafbe1; color: #116329; }
.s-failed { background: #ffebe9; color: #a40e26; }
.s-in-progress { background: #ddf4ff; color: #0550ae; }
.s-skipped-hw, .s-inconclusive { background: #fff8c5; color: #7d4e00; }
.v-PASS { color: #116329; } .v-FAIL { color: #a40e26; } .v-INCONCLUSIVE { color: #7d4e00; }
.trends { display: grid; grid-template-columns: repeat(auto-fill, minmax(350px, 1fr)); gap: 14px; }
.trend { border: 1px solid #d0d7de; border-radius: 6px; padding: 10px; }
.trend p { margin: 2px 0 6px; color: #656d76; font-size: 12px; }
.chart { max-width: 100%; height: auto; display: block; }
.scroll { overflow-x: auto; }
.empty { color: #656d76; }
.aside { color: #656d76; font-size: 12px; }
.learner { color: #1f2328; }
dl.notes dt { font-weight: 600; margin-top: 8px; }
dl.notes dd { margin: 2px 0 0 16px; white-space: pre-wrap; }
section, .trend, .card, tr, svg { break-inside: avoid; page-break-inside: avoid; }
@media print {
  body { padding: 0; max-width: none; font-size: 11px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .scroll { overflow: visible; }
  h2 { break-after: avoid; }
}
"""


def _card(value: str, label: str) -> str:
    return f'<div class="card"><b>{escape(value)}</b><span>{escape(label)}</span></div>'


def render(data: dict[str, Any]) -> str:
    plan, overall, streaks = data["plan"], data["overall"], data["streaks"]
    head = (data["git"]["head"] or "")[:10]
    title = f"Progress report — {plan['title']}"
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f'<meta name="generator" content="mltrack {escape(data["mltrack"])}">',
        f"<style>{CSS}</style>", "</head>", "<body>",
        f"<header><h1>{escape(title)}</h1>",
        '<p class="meta">'
        + (f'<b class="learner">{escape(data["learner"])}</b> · ' if data.get("learner") else "")
        + f'plan <code>{escape(plan["id"])}</code> · generated '
        f'{escape(data["generated_at"][:16].replace("T", " "))} UTC'
        + (f" · git <code>{escape(head)}</code>" if head else "")
        + f' · schema <code>{escape(data["schema"])}</code></p></header>',
        '<section class="cards">',
        _card(f"{overall['passed']}/{overall['gradable']}",
              f"days passed ({overall['percent']:.1f}%)"),
        _card(f"{overall['points']}/{overall['points_possible']}", "points"),
        _card(str(overall["attempts"]), "attempts"),
        _card(duration(overall["grading_s"]), "grading time"),
        _card(str(overall["hints_used"]), "hints used"),
        _card(f"{streaks['current']} d", "current streak"),
        _card(f"{streaks['longest']} d", "longest streak"),
        _card(str(overall["active_days"]), "active days"),
        "</section>",
        "<section><h2>Completion by phase</h2>", svg.phase_bars(data["phases"]), "</section>",
        '<section><h2>Activity</h2><div class="scroll">', svg.heatmap(data["calendar"]),
        "</div></section>",
    ]
    days = [d for d in data["days"] if d["kind"] == "challenge" and d["challenge"]]
    parts += _days(days)
    parts += _notes(data["days"])
    parts += _figures(days)
    parts += _hardware(data["hardware"])
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _days(days: list[dict[str, Any]]) -> list[str]:
    rows = []
    for d in days:
        hints = f"{d['hints_used']}/{d['hints_total']}" if d["hints_total"] is not None \
            else str(d["hints_used"])
        status = d["status"]
        rows.append(
            f"<tr><td>{escape(d['label'])}</td><td>{escape(d['short_title'])}"
            + (f' <span class="aside">({escape(d["curriculum"])})</span>' if d["curriculum"]
               else "") + "</td>"
            f'<td><span class="status s-{escape(status)}">{escape(STATUS.get(status, status))}'
            f"</span></td><td class=num>{d['attempts']}</td>"
            f"<td class=num>{duration(d['time_to_pass_s'])}</td>"
            f"<td class=num>{duration(d['grading_s']) if d['attempts'] else '—'}</td>"
            f"<td class=num>{hints}</td></tr>")
    return ["<section><h2>Days</h2>", '<div class="scroll"><table>',
            "<thead><tr><th>Day</th><th>Title</th><th>Status</th><th class=num>Attempts</th>"
            "<th class=num>Time to pass</th><th class=num>Grading time</th>"
            "<th class=num>Hints</th></tr></thead>", "<tbody>", *rows, "</tbody></table></div>",
            "</section>"]


def _notes(days: list[dict[str, Any]]) -> list[str]:
    noted = [d for d in days if d["notes"]]
    if not noted:
        return []
    out = ["<section><h2>Notes</h2>", "<dl class=\"notes\">"]
    for d in noted:
        done = ' <span class="status s-passed">done</span>' if d["done"] else ""
        out.append(f"<dt>{escape(d['label'])} · {escape(d['short_title'])}{done}</dt>")
        out += [f"<dd>{escape(n['text'])} <span class=\"aside\">{escape((n['at'] or '')[:10])}"
                "</span></dd>" for n in d["notes"]]
    return out + ["</dl></section>"]


def title_of(name: str) -> str:
    """A figure's name in words: `fp32_accuracy` → `fp32 accuracy`."""
    return name.replace("_", " ")


def _figures(days: list[dict[str, Any]]) -> list[str]:
    out = ["<section><h2>Benchmarks and measured figures</h2>"]
    figures = [(d, s) for d in days for s in d["benchmarks"] + d["metrics"]]
    if not figures:
        return out + ['<p class="empty">No benchmark has been recorded yet.</p></section>']
    out.append('<div class="trends">')
    for d, s in figures:
        latest = s["latest"]
        verdict = latest["verdict"] or ("recorded" if latest["valid"] else "noisy")
        where = machines(s)
        one = len(s["history"]) == 1  # a trend needs two points: one is a figure, not a chart
        out.append(
            f'<div class="trend"><h3>{escape(d["label"])} · {escape(title_of(s["name"]))}</h3>'
            f"<p>{'measured' if one else 'latest'} "
            f"<b>{escape(figure(latest['value'], s['unit']))}</b> · target "
            f"{escape(s['target'] or '—')} · <span class=\"v-{escape(verdict)}\">"
            f"{escape(verdict)}</span>"
            + (f" · measured on {escape(where)}" if where != "—" else "") + "</p>"
            + ('<p class="aside">one attempt so far: the trend shows from the second</p>'
               if one else svg.trend(s, figure)) + "</div>")
    out.append("</div></section>")
    return out


def _hardware(machines_: list[dict[str, Any]]) -> list[str]:
    out = ["<section><h2>Hardware</h2>"]
    if not machines_:
        return out + ['<p class="empty">No machine recorded yet (<code>mltrack hw</code> '
                      "records this one).</p></section>"]
    out += ["<table><thead><tr><th>Machine</th><th>Class</th><th>Fingerprint</th>"
            "<th class=num>Calibration score</th><th class=num>Benchmarks</th></tr></thead>"
            "<tbody>"]
    for h in machines_:
        score = f"{h['score']:.2f}" if h["score"] is not None else "—"
        out.append(f"<tr><td>{escape(h['summary'] or '—')}</td><td>{escape(h['class'])}</td>"
                   f"<td><code>{escape(h['fingerprint'])}</code></td><td class=num>{score}</td>"
                   f"<td class=num>{h['benchmarks']}</td></tr>")
    return out + ["</tbody></table></section>"]

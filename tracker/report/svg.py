"""Inline SVG charts for the HTML report: no scripts, no external files, printable.

Every chart is an <svg> with a viewBox, `role="img"`, an aria-label and `data-chart`
naming its kind; marks carry <title>s (tooltips in a browser, text for screen readers).
"""

from __future__ import annotations

from datetime import date, timedelta
from html import escape
from typing import Any

PALETTE = {
    "passed": "#2da44e", "failed": "#cf222e", "error": "#cf222e", "timeout": "#bf8700",
    "crashed": "#cf222e", "inconclusive": "#bf8700", "skipped": "#8c959f",
}
HEAT = ("#ebedf0", "#9be9a8", "#40c463", "#30a14e", "#216e39")
INK, MUTED, GRID, ACCENT, TARGET = "#1f2328", "#656d76", "#d0d7de", "#0969da", "#cf222e"
MACHINES = (ACCENT, "#8250df", "#bc4c00", "#1b7c83", "#4d2d00")  # one line per machine


def _svg(kind: str, width: int, height: int, label: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{kind}" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="{escape(label)}"><title>{escape(label)}</title>'
            + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, *, size: int = 11, anchor: str = "start",
          fill: str = MUTED, weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}" font-weight="{weight}">{escape(text)}</text>')


def phase_bars(phases: list[dict[str, Any]], width: int = 720) -> str:
    """Completion per phase: one horizontal bar each, passed of gradable."""
    row, label_w, right = 40, 330, 90
    height = row * max(len(phases), 1) + 10
    bar_w = width - label_w - right
    body = []
    for i, p in enumerate(phases):
        y = 5 + i * row
        name = f"Phase {p['number']}: {p['title']}"
        body.append(_text(0, y + 15, name, fill=INK))  # whole: a teacher reads the names
        rows = p.get("span", "") + (f" (curriculum: {p['curriculum']})"
                                    if p.get("curriculum") else "")
        body.append(_text(0, y + 29, rows, size=10))
        body.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="16" rx="3" '
                    f'fill="{HEAT[0]}"><title>{escape(name)}: {p["passed"]} of '
                    f'{p["gradable"]} gradable days passed</title></rect>')
        if p["gradable"] and p["passed"]:
            done = bar_w * p["passed"] / p["gradable"]
            body.append(f'<rect class="mark" x="{label_w}" y="{y + 3}" width="{done:.1f}" '
                        f'height="16" rx="3" fill="{PALETTE["passed"]}"><title>'
                        f'{p["passed"]}/{p["gradable"]} passed</title></rect>')
        note = f"{p['passed']}/{p['gradable']}" if p["gradable"] else "no graders yet"
        body.append(_text(label_w + bar_w + 8, y + 15, note))
    return _svg("phases", width, height, "Completion per phase", body)


def heatmap(calendar: dict[str, Any]) -> str:
    """A GitHub-style calendar: a column per week (Monday on top), a square per day,
    darker for more attempts."""
    cell, gap, left, top = 12, 3, 30, 18
    start = date.fromisoformat(calendar["start"])
    end = date.fromisoformat(calendar["end"])
    weeks = calendar["weeks"]
    per_day = {d["date"]: d for d in calendar["days"]}
    peak = max(calendar["max_attempts"], 1)
    width = left + weeks * (cell + gap) + 10
    height = top + 7 * (cell + gap) + 24
    body = []
    for row, name in ((0, "Mon"), (2, "Wed"), (4, "Fri")):
        body.append(_text(0, top + row * (cell + gap) + 10, name, size=9))
    month, label_x = None, -100.0
    for week in range(weeks):
        for weekday in range(7):
            day = start + timedelta(weeks=week, days=weekday)
            if day > end:
                break
            x, y = left + week * (cell + gap), top + weekday * (cell + gap)
            # a month is labelled over the week column holding its 1st (or its first Monday)
            if (weekday == 0 or day.day == 1) and day.month != month:
                month = day.month
                if x - label_x >= 3 * (cell + gap):  # no label on top of the last one
                    label_x = x
                    body.append(_text(x, 10, day.strftime("%b"), size=9))
            info = per_day.get(day.isoformat())
            count = info["attempts"] if info else 0
            level = 0 if not count else min(4, 1 + round(3 * (count - 1) / max(peak - 1, 1)))
            passes = f", {info['passes']} passed" if info and info["passes"] else ""
            tip = f"{day.isoformat()}: {count} attempt{'s' * (count != 1)}{passes}"
            mark = ' class="mark"' if count else ""
            body.append(f'<rect{mark} x="{x}" y="{y}" width="{cell}" height="{cell}" rx="2" '
                        f'fill="{HEAT[level]}" data-date="{day.isoformat()}" '
                        f'data-count="{count}"><title>{escape(tip)}</title></rect>')
    y = top + 7 * (cell + gap) + 8
    body.append(_text(left, y + 9, "less", size=9))
    for i, colour in enumerate(HEAT):
        body.append(f'<rect x="{left + 28 + i * (cell + 2)}" y="{y}" width="{cell}" '
                    f'height="{cell}" rx="2" fill="{colour}"/>')
    body.append(_text(left + 30 + 5 * (cell + 2), y + 9, "more", size=9))
    return _svg("heatmap", width, height, "Activity calendar: attempts per day", body)


def _ceiling(series: dict[str, Any]) -> float | None:
    """The highest value a figure can take: 1 for a fraction such as an accuracy, 100 for a
    percentage; None when it has no bound."""
    if series.get("unit") == "%":
        return 100.0
    name = series.get("name", "").lower()
    bounded = any(w in name for w in ("accuracy", "precision", "recall", "f1", "auc"))
    values = [p["value"] for p in series["history"]]
    return 1.0 if bounded and not series.get("unit") and max(values) <= 1.0 else None


def trend(series: dict[str, Any], fmt, width: int = 340, height: int = 150) -> str:
    """One figure over attempts: a line per machine through its values (like is compared
    with like), 95% intervals as whiskers, points coloured by verdict, the target dashed."""
    points = series["history"]
    machines: dict[str, list[int]] = {}
    for i, p in enumerate(points):
        machines.setdefault(p.get("hw_class") or p.get("fingerprint") or "", []).append(i)
    legend = len(machines) > 1
    height += 16 if legend else 0
    left, right, top, bottom = 56, 10, 12, 26 + (16 if legend else 0)
    values = [p["value"] for p in points]
    values += [v for p in points for v in (p.get("low"), p.get("high")) if v is not None]
    goal = series.get("target_value")
    if goal is not None:
        values.append(goal)
    low, high = min(values), max(values)
    ticks = (low, high)  # the axis is labelled at the lowest and highest value shown
    if high == low:
        low, high = low - (abs(low) * 0.1 or 1), high + (abs(high) * 0.1 or 1)
    pad = (high - low) * 0.08
    low, high = low - pad, high + pad
    ceiling = _ceiling(series)
    if ceiling is not None:  # no accuracy axis above 100 %
        high = min(high, ceiling)
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(i: int) -> float:
        return left + (plot_w * i / (len(points) - 1) if len(points) > 1 else plot_w / 2)

    def sy(v: float) -> float:
        return top + plot_h * (1 - (v - low) / (high - low))

    body = [f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
            f'stroke="{GRID}"/>']
    for v in sorted(set(ticks)):
        body.append(_text(left - 4, sy(v) + 4, fmt(v, series["unit"]), size=9, anchor="end"))
    if goal is not None:
        body.append(f'<line class="target" x1="{left}" x2="{left + plot_w}" y1="{sy(goal):.1f}" '
                    f'y2="{sy(goal):.1f}" stroke="{TARGET}" stroke-dasharray="5 3" '
                    f'stroke-width="1.5"><title>target {escape(series["target"])}</title></line>')
    for n, indices in enumerate(machines.values()):
        if len(indices) > 1:
            path = " ".join(f"{sx(i):.1f},{sy(points[i]['value']):.1f}" for i in indices)
            body.append(f'<polyline class="mark" points="{path}" fill="none" '
                        f'stroke="{MACHINES[n % len(MACHINES)]}" stroke-width="2"/>')
    for i, p in enumerate(points):
        x = sx(i)
        if p.get("low") is not None and p.get("high") is not None:
            body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{sy(p["low"]):.1f}" '
                        f'y2="{sy(p["high"]):.1f}" stroke="{MUTED}" stroke-width="1"/>')
        colour = PALETTE["passed"] if p.get("verdict") == "PASS" else \
            PALETTE["failed"] if p.get("verdict") == "FAIL" else \
            PALETTE["inconclusive"] if p.get("verdict") == "INCONCLUSIVE" or not p["valid"] \
            else ACCENT
        where = f" on {p['hw_class']}" if p.get("hw_class") else ""
        tip = (f"attempt {p['attempt_id']} ({(p.get('at') or '')[:10]}): "
               f"{fmt(p['value'], series['unit'])}{where} {p.get('verdict') or ''}").strip()
        ring = MACHINES[list(machines).index(p.get("hw_class") or p.get("fingerprint") or "")
                        % len(MACHINES)]
        body.append(f'<circle class="mark" cx="{x:.1f}" cy="{sy(p["value"]):.1f}" r="3.5" '
                    f'fill="{colour}" stroke="{ring}" stroke-width="1.5"><title>{escape(tip)}'
                    f"</title></circle>")
    if legend:
        x = left
        for n, name in enumerate(machines):
            colour = MACHINES[n % len(MACHINES)]
            body.append(f'<rect x="{x}" y="{height - 35}" width="10" height="3" '
                        f'fill="{colour}"/>')
            body.append(_text(x + 14, height - 30, name or "unknown machine", size=9))
            x += 24 + 6 * len(name or "unknown machine")
    body.append(_text(left, height - 8, f"{len(points)} attempt{'s' * (len(points) != 1)}",
                      size=9))
    if goal is not None:
        body.append(_text(left + plot_w, height - 8, f"target {series['target']}", size=9,
                          anchor="end", fill=TARGET))
    return _svg("trend", width, height, f"{series['name']} over attempts", body)

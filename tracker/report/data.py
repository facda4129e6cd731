"""The progress report as plain data (schema `mltrack.report/1`, see schema.json): the
one source the Markdown, HTML and JSON renderings are made from.

Everything comes from the plan files and progress.db (attempts, hints, metrics, benchmark
records, hardware snapshots); nothing is measured here.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tracker.errors import MltrackError
from tracker.plan import Plan
from tracker.progress import completion, streak

SCHEMA = "mltrack.report/1"
CALENDAR_WEEKS = (12, 53)  # the heatmap spans at least 12 and at most 53 weeks


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime | None) -> str | None:
    return _utc(moment).isoformat() if moment is not None else None


def longest_streak(dates: list[date]) -> int:
    best = run = 0
    previous = None
    for d in sorted(set(dates)):
        run = run + 1 if previous is not None and d - previous == timedelta(days=1) else 1
        best, previous = max(best, run), d
    return best


_TARGET = re.compile(r"^\s*(>=|<=|>|<)\s*([-+0-9.eE]+)\s*(×|x)?\s*([A-Za-zµ/]+)?")
_TIME = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def target_value(target: str, unit: str) -> float | None:
    """The bound of a target such as '>= 1.5×' or '<= 20 ms (class x86-cpu)' in the
    series' `unit` (for drawing it), or None when it cannot be put on that scale."""
    match = _TARGET.match(target or "")
    if not match:
        return None
    try:
        value = float(match.group(2))
    except ValueError:
        return None
    times, written = match.group(3), match.group(4) or ""
    if unit == "x":
        return value if times or not written else None
    if unit in _TIME and written in _TIME:
        return value * _TIME[written] / _TIME[unit]
    return value if written == unit or (not written and not times) else None


def build(tracker, plan: Plan | None = None, learner: str | None = None) -> dict[str, Any]:
    """The report of `plan` (default: the active plan) from this workspace's record, naming
    `learner` (default: the workspace's git identity)."""
    from tracker import __version__, gitops, labels
    from tracker.store.benchstore import bench_records, hardware_snapshots

    store = tracker.store
    plan = plan or tracker.plan
    now = _utc(tracker.now())
    today = now.date()
    rows = tracker.rows(plan)
    attempts = sorted(store.attempts(), key=lambda a: a.id)  # oldest first
    by_challenge: dict[str, list] = defaultdict(list)
    for a in attempts:
        by_challenge[a.challenge].append(a)
    hints = _hints_used(store)
    benches = defaultdict(list)
    machine_of: dict[int, set[tuple[str, str, str]]] = defaultdict(set)  # attempt -> machines
    for b in sorted(bench_records(store), key=lambda r: r.id):
        benches[b.challenge].append(b)
        machine_of[b.attempt_id].add((b.hw_class, b.fingerprint, b.device))
    metrics = _metrics(store, machine_of)
    states = store.states()
    notes: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for note in store.notes(plan=plan.id):
        notes[note.day].append({"text": note.text, "at": _iso(note.created_at)})
    done_days = store.days_done(plan.id)

    days = []
    in_plan = set()
    for row in rows:
        d = row.day
        cid = d.challenge
        in_plan.add(cid)
        tries = by_challenge.get(cid, []) if cid else []
        state = states.get(cid) if cid else None
        total_hints = worth = None
        if d.gradable:
            try:
                challenge = tracker.catalog.get(cid)
                total_hints, worth = len(challenge.hints), challenge.points
            except MltrackError:
                total_hints = None
        started, passed = (_utc(state.started_at), _utc(state.passed_at)) if state else (None,
                                                                                         None)
        title, calendar = labels.day_title(d)
        days.append({
            "day": d.day, "until": d.until, "label": d.label, "title": d.title,
            "short_title": title, "curriculum": calendar, "done": d.day in done_days,
            "notes": notes.get(d.day, []), "points": worth,
            "phase": d.phase, "kind": d.kind, "challenge": cid, "status": row.status,
            "attempts": len(tries),
            "first_attempt": _iso(tries[0].finished_at) if tries else None,
            "last_attempt": _iso(tries[-1].finished_at) if tries else None,
            "last_verdict": tries[-1].verdict if tries else None,
            "started_at": _iso(started), "passed_at": _iso(passed),
            "time_to_pass_s": (passed - started).total_seconds() if started and passed
            else None,
            "grading_s": round(sum(a.duration_s for a in tries), 3),
            "active_days": len({_utc(a.finished_at).date() for a in tries}),
            "hints_used": hints.get(cid, 0) if cid else 0, "hints_total": total_hints,
            "benchmarks": _bench_series(benches.get(cid, [])) if cid else [],
            "metrics": _metric_series(metrics.get(cid, [])) if cid else [],
        })

    phases = []
    for phase in plan.phases:
        mine = [r for r in rows if r.day.phase == phase.number]
        done, gradable = completion(mine)
        worth = [(x["points"] or 0, x["status"] == "passed") for x in days
                 if x["phase"] == phase.number and x["points"] is not None]
        phases.append({
            "points": sum(p for p, ok in worth if ok), "points_possible": sum(p for p, _ in worth),
            "number": phase.number, "title": phase.title, "label": phase.label,
            "span": labels.phase_span(phase), "curriculum": labels.phase_secondary(phase),
            "passed": done, "gradable": gradable,
            "planned": sum(1 for r in mine if r.day.kind == "challenge" and not r.day.gradable),
            "percent": _percent(done, gradable),
        })

    dates = sorted({_utc(a.finished_at).date() for a in attempts})
    done, gradable = completion(rows)
    mine = [a for a in attempts if a.challenge in in_plan]
    return {
        "schema": SCHEMA,
        "generated_at": now.isoformat(),
        "mltrack": __version__,
        "plan": {"id": plan.id, "title": plan.title, "description": plan.description,
                 "days": len(plan.days), "gradable": gradable},
        "git": {"head": gitops.head_sha(tracker.ws.root)},
        "learner": learner or _git_identity(tracker.ws.root),
        "overall": {
            "passed": done, "gradable": gradable, "percent": _percent(done, gradable),
            "attempts": len(mine), "grading_s": round(sum(a.duration_s for a in mine), 3),
            "points": sum(p["points"] for p in phases),
            "points_possible": sum(p["points_possible"] for p in phases),
            "hints_used": sum(d["hints_used"] for d in days),
            "days_started": sum(1 for d in days if d["status"] not in
                                ("not-started", "planned", "rest", "buffer")),
            "active_days": len(dates),
            "first_activity": dates[0].isoformat() if dates else None,
            "last_activity": dates[-1].isoformat() if dates else None,
        },
        "streaks": {"current": streak(dates, today), "longest": longest_streak(dates),
                    "today": today.isoformat()},
        "phases": phases,
        "days": days,
        "calendar": _calendar(attempts, today),
        "hardware": _hardware(hardware_snapshots(store), benches),
    }


def _git_identity(root) -> str | None:
    """`user.name` of the workspace's git configuration, or None."""
    import subprocess

    try:
        out = subprocess.run(["git", "config", "user.name"], cwd=root, capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _percent(done: int, total: int) -> float:
    return round(100.0 * done / total, 1) if total else 0.0


def _hints_used(store) -> dict[str, int]:
    from sqlmodel import func, select

    from tracker.store.models import HintUse

    with store.session() as s:
        query = select(HintUse.challenge, func.count()).group_by(HintUse.challenge)
        return {challenge: count for challenge, count in s.exec(query)}


def _metrics(store, machine_of: dict[int, set]) -> dict[str, list[dict[str, Any]]]:
    """Figures recorded with record_metric / bench.check_value, by challenge, oldest first
    (those a benchmark reported are left out: the benchmark records carry them). A figure's
    machine is the one its attempt's benchmarks ran on, when that attempt ran any."""
    from sqlmodel import select

    from tracker.store.models import Attempt, MetricRecord

    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with store.session() as s:
        query = (select(MetricRecord, Attempt.challenge, Attempt.finished_at)
                 .join(Attempt, MetricRecord.attempt_id == Attempt.id)
                 .order_by(MetricRecord.id))
        for m, challenge, finished in s.exec(query):
            try:
                details = json.loads(m.details or "{}")
            except ValueError:
                details = {}
            if isinstance(details, dict) and "hw_class" in details:
                continue
            machines = machine_of.get(m.attempt_id, set())
            hw_class, fingerprint, device = next(iter(machines)) if len(machines) == 1 \
                else (None, None, None)
            found[challenge].append({"name": m.name, "value": m.value, "unit": m.unit,
                                     "target": m.target, "verdict": m.verdict,
                                     "attempt_id": m.attempt_id, "at": _iso(finished),
                                     "hw_class": hw_class, "fingerprint": fingerprint,
                                     "device": device})
    return found


def _series(name: str, kind: str, unit: str, points: list[dict[str, Any]]) -> dict[str, Any]:
    latest = points[-1]
    target = next((p["target"] for p in reversed(points) if p["target"]), "")
    return {"name": name, "kind": kind, "unit": unit, "target": target,
            "target_value": target_value(target, unit), "latest": latest, "history": points}


def _bench_series(records: list) -> list[dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    units: dict[str, str] = {}
    for r in records:  # oldest first
        units[r.name] = r.unit
        grouped[r.name].append({
            "attempt_id": r.attempt_id, "at": _iso(r.recorded_at), "value": r.value,
            "low": r.low, "high": r.high, "target": r.target, "verdict": r.verdict,
            "valid": bool(r.valid), "device": r.device, "hw_class": r.hw_class,
            "fingerprint": r.fingerprint,
        })
    return [_series(name, "benchmark", units[name], points) for name, points in grouped.items()]


def _metric_series(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in rows:
        grouped[m["name"]].append({
            "attempt_id": m["attempt_id"], "at": m["at"], "value": m["value"], "low": None,
            "high": None, "target": m["target"], "verdict": m["verdict"], "valid": True,
            "device": m["device"], "hw_class": m["hw_class"], "fingerprint": m["fingerprint"],
        })
    return [_series(name, "metric", rows_unit(rows, name), points)
            for name, points in grouped.items()]


def rows_unit(rows: list[dict[str, Any]], name: str) -> str:
    return next((m["unit"] for m in reversed(rows) if m["name"] == name), "")


def _calendar(attempts: list, today: date) -> dict[str, Any]:
    counts: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for a in attempts:
        day = _utc(a.finished_at).date()
        counts[day][0] += 1
        counts[day][1] += a.verdict == "passed"
    low, high = CALENDAR_WEEKS
    first = min(counts) if counts else today
    weeks = min(max((today - first).days // 7 + 1, low), high)
    start = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)  # a Monday
    return {
        "start": start.isoformat(), "end": today.isoformat(), "weeks": weeks,
        "max_attempts": max((c[0] for d, c in counts.items() if d >= start), default=0),
        "days": [{"date": d.isoformat(), "attempts": c[0], "passes": c[1]}
                 for d, c in sorted(counts.items()) if start <= d <= today],
    }


def _hardware(snapshots: list, benches: dict[str, list]) -> list[dict[str, Any]]:
    """The machines the learner's benchmarks ran on. A snapshot with no benchmark of this
    record (a calibration that came with the course, another machine's `mltrack hw`) is not
    the learner's hardware, so it is left out."""
    machines: dict[str, dict[str, Any]] = {}
    for snap in sorted(snapshots, key=lambda s: s.id):  # oldest first
        entry = machines.setdefault(snap.fingerprint, {
            "fingerprint": snap.fingerprint, "class": snap.hw_class, "summary": snap.summary,
            "first_seen": _iso(snap.taken_at), "score": None, "benchmarks": 0})
        if snap.score is not None:
            entry["score"] = snap.score
    for records in benches.values():
        for r in records:
            entry = machines.setdefault(r.fingerprint, {
                "fingerprint": r.fingerprint, "class": r.hw_class, "summary": "",
                "first_seen": _iso(r.recorded_at), "score": None, "benchmarks": 0})
            entry["benchmarks"] += 1
    return [m for m in machines.values() if m["benchmarks"]]

"""Commands on the whole course: status, plans."""

from __future__ import annotations

from typing import Annotated

import typer

from tracker.cli import render
from tracker.cli.app import tracker
from tracker.cli.days import Json


def status(json: Json = False) -> None:
    """Every day of the active plan with its kind and status."""
    from tracker.benchmarks import latest_by_day
    from tracker.cli.hw import benchmarks_table
    from tracker.progress import completion, next_day, streak
    from tracker.store.readout import Readout

    t = tracker()
    # plain sqlite3 when the file is current; the Store (sqlmodel, migrations) otherwise
    readout = Readout.read(t.ws.db_path)
    plan = t.quick_plan() if readout else t.plan
    rows = t.rows(plan, readout.states() if readout else None)
    done, total = completion(rows)
    current = streak((readout or t.store).activity_dates(), t.now().date())
    upcoming = next_day(plan, rows)
    # the newest benchmark figures of each day
    benchmarks = latest_by_day(t, readout.latest_benches() if readout else None)
    marked = (readout or t.store).days_done(plan.id)  # rest and reading days marked done
    if json:
        render.print_json({
            "plan": plan.id, "title": plan.title,
            "summary": {"passed": done, "gradable": total, "streak": current,
                        "points": dict(zip(("earned", "possible"), points(t, rows),
                                           strict=True)),
                        "next": upcoming.day.label if upcoming else None},
            "days": [{**r.to_dict(), "done": r.day.day in marked} for r in rows],
            "benchmarks": benchmarks,
        })
        return
    render.console.print(render.status_table(plan, rows, marked))
    nxt = f"; next: {upcoming.day.label} ({upcoming.day.title})" if upcoming else ""
    earned, possible = points(t, rows)
    render.console.print(f"passed {done}/{total} gradable days · {earned}/{possible} points · "
                         f"streak {current} day(s){nxt}")
    if benchmarks:
        render.console.print(benchmarks_table(benchmarks))


def points(t, rows) -> tuple[int, int]:
    """(earned, possible) points of the plan's graded days (challenge.toml's `points`)."""
    earned = possible = 0
    for row in rows:
        if not row.day.gradable:
            continue
        worth = t.catalog.points(row.day.challenge)
        if worth is None:
            continue
        possible += worth
        earned += worth if row.status == "passed" else 0
    return earned, possible


def plans(
    use: Annotated[str | None, typer.Option("--use", help="Make this plan the active one.")] = None,
    json: Json = False,
) -> None:
    """List the plans of this course (the active one is marked)."""
    t = tracker()
    if use:
        t.use_plan(use)
    active = t.plan.id
    listing = [
        {"id": p.id, "title": p.title, "days": len(p.days),
         "gradable": len(p.challenge_days()), "active": p.id == active}
        for p in t.plans().values()
    ]
    if json:
        render.print_json(listing)
        return
    for p in listing:
        mark = "[green]*[/]" if p["active"] else " "
        render.console.print(f"{mark} [bold]{p['id']}[/]  {render.escape(p['title'])}  "
                             f"[dim]{p['days']} days, {p['gradable']} graded[/]")

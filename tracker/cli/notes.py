"""Commands for any day of the plan, graded or not: keep a note, mark a day without a
grader (rest, reading, planned-only) done."""

from __future__ import annotations

from typing import Annotated

import typer

from tracker.cli import render
from tracker.cli.app import tracker
from tracker.cli.days import Json
from tracker.errors import NotGradable

AnyDay = Annotated[str, typer.Argument(
    help="Any day of the active plan, rest and buffer days too: day7, 7 or day007.",
    show_default=False)]


def note(
    day: AnyDay,
    text: Annotated[str | None, typer.Argument(
        help="The note (quote it); without it, the day's notes are listed.",
        show_default=False)] = None,
    json: Json = False,
) -> None:
    """Keep a note on a day (stored in progress.db, shown in the report), or list its notes."""
    t = tracker()
    plan = t.plan
    row = plan.lookup(day)
    if text is not None and text.strip():
        t.store.add_note(plan=plan.id, day=row.day, text=text.strip())
    notes = t.store.notes(plan=plan.id, day=row.day)
    if json:
        render.print_json({"day": row.day, "notes": [
            {"text": n.text, "at": n.created_at.isoformat()} for n in notes]})
        return
    if text is not None and text.strip():
        render.console.print(f"[green]noted[/] on {row.label} ({len(notes)} note"
                             f"{'s' if len(notes) != 1 else ''})")
        return
    if not notes:
        render.console.print(f"no notes on {row.label} yet: mltrack note {row.label} \"...\"")
    for n in notes:
        render.console.print(f"[dim]{n.created_at:%Y-%m-%d %H:%M}[/]  {render.escape(n.text)}")


def done(day: AnyDay) -> None:
    """Mark a day without a grader done: a rest day, a buffer, a reading day."""
    t = tracker()
    plan = t.plan
    row = plan.lookup(day)
    if row.gradable:
        raise NotGradable(f"{row.label} is graded: it is done when it passes "
                          f"(mltrack grade {row.label})")
    t.store.mark_day_done(plan=plan.id, day=row.day)
    render.console.print(f"[green]✓[/] {row.label} · {render.escape(row.title)} marked done")

"""Commands around grading: watch (re-grade on save) and doctor (is everything ready?)."""

from __future__ import annotations

from typing import Annotated

import typer

from tracker.cli import render
from tracker.cli.app import tracker
from tracker.cli.days import Json, OptionalDay, _progress, _relative, day_in_progress, next_row


def watch(
    day: OptionalDay = None,
    interval: Annotated[float, typer.Option(help="Seconds between looks at the files.")] = 0.5,
    commit: Annotated[bool, typer.Option(help="Commit each grade (off: record only).")] = False,
    follow: Annotated[bool, typer.Option(
        help="After a pass, start the next day and watch it.")] = True,
    clear: Annotated[bool, typer.Option(help="Clear the terminal before each grade.")] = True,
) -> None:
    """Re-grade the day every time you save its solution (Ctrl-C to stop); after a pass, go
    on to the next day."""
    from tracker.watch import snapshot, wait_for_change

    t = tracker()
    day = day or day_in_progress(t)
    while True:
        target = t.resolve(day)
        folder = t.solution_dir(target.challenge)
        if not folder.is_dir():
            t.start(day)
        try:
            while True:
                state = snapshot(folder)
                if clear and render.console.is_terminal:
                    render.console.clear()
                render.console.print(f"[dim]watching {folder}; save to re-grade, Ctrl-C to "
                                     "stop[/]")
                with _progress(enabled=render.console.is_terminal) as on_event:
                    outcome = t.grade(day, commit=commit, on_event=on_event)
                render.grade_outcome(outcome)
                passed = outcome.result.verdict == "passed"
                nxt = next_row(t, target.day.day) if passed else None
                if passed:
                    render.next_steps(outcome, nxt)
                if passed and follow and nxt is not None:
                    break
                wait_for_change(folder, state, interval=interval)
        except KeyboardInterrupt:
            render.console.print("stopped watching")
            return
        day = nxt.day.label
        path = t.start(day)[1]
        render.console.print(f"[green]on to {day}[/]: edit [bold]{_relative(path)}[/]; "
                             "save it to grade")
        try:
            wait_for_change(path.parent, snapshot(path.parent), interval=interval)
        except KeyboardInterrupt:
            render.console.print("stopped watching")
            return


def doctor(
    json: Json = False,
    fix: Annotated[bool, typer.Option(
        "--fix", help="Repair first: set up git's merge and diff drivers for progress.db, "
        "merge a conflicted progress.db, rebuild a damaged one from its readable records "
        "(the damaged file is moved aside, never deleted).")] = False,
) -> None:
    """Check that this machine and this course are ready: Python, packages, course files,
    progress.db, git and hardware. Exits 1 if something needs fixing."""
    from tracker.doctor import fix as repair
    from tracker.doctor import run_checks

    t = tracker()
    fixed = repair(t) if fix else []
    checks = run_checks(t)
    if json:
        render.print_json([c.to_dict() for c in checks] if not fix else
                          {"fixed": fixed, "checks": [c.to_dict() for c in checks]})
    else:
        for line in fixed:
            render.console.print(f"[cyan]fixed[/] {render.escape(line)}")
        for c in checks:
            mark = "[green]✓[/]" if c.ok else ("[yellow]![/]" if c.warning else "[red]✗[/]")
            render.console.print(f"{mark} [bold]{c.name:12s}[/] {render.escape(c.detail)}")
    if any(not c.ok and not c.warning for c in checks):
        raise typer.Exit(1)

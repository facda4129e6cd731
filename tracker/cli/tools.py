"""Commands around grading: watch (re-grade on save) and doctor (is everything ready?)."""

from __future__ import annotations

from typing import Annotated

import typer

from tracker.cli import render
from tracker.cli.app import tracker
from tracker.cli.days import Day, Json, _progress


def watch(
    day: Day,
    interval: Annotated[float, typer.Option(help="Seconds between looks at the files.")] = 0.5,
    commit: Annotated[bool, typer.Option(help="Commit each grade (off: record only).")] = False,
) -> None:
    """Re-grade the day every time you save its solution (Ctrl-C to stop)."""
    from tracker.watch import snapshot, wait_for_change

    t = tracker()
    target = t.resolve(day)
    folder = t.solution_dir(target.challenge)
    if not folder.is_dir():
        t.start(day)
    render.console.print(f"watching [bold]{folder}[/]; save to re-grade, Ctrl-C to stop")
    state = snapshot(folder)
    try:
        while True:
            with _progress(enabled=render.console.is_terminal) as on_event:
                outcome = t.grade(day, commit=commit, on_event=on_event)
            render.grade_outcome(outcome)
            state = wait_for_change(folder, state, interval=interval)
            render.console.rule("changed: grading again")
    except KeyboardInterrupt:
        render.console.print("stopped watching")


def doctor(json: Json = False) -> None:
    """Check that this machine and this course are ready: Python, packages, course files,
    progress.db, git and hardware. Exits 1 if something needs fixing."""
    from tracker.doctor import run_checks

    checks = run_checks(tracker())
    if json:
        render.print_json([c.to_dict() for c in checks])
    else:
        for c in checks:
            mark = "[green]✓[/]" if c.ok else ("[yellow]![/]" if c.warning else "[red]✗[/]")
            render.console.print(f"{mark} [bold]{c.name:12s}[/] {render.escape(c.detail)}")
    if any(not c.ok and not c.warning for c in checks):
        raise typer.Exit(1)

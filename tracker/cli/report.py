"""`mltrack report`: export the progress report as Markdown, HTML or JSON."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tracker.cli import render
from tracker.cli.app import tracker


class Format(StrEnum):
    md = "md"
    html = "html"
    json = "json"


def report(
    fmt: Annotated[Format, typer.Option(
        "--format", "-f", help="md (renders on GitHub), html (one self-contained file with "
                               "SVG charts) or json (schema mltrack.report/1).")] = Format.md,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="FILE", dir_okay=False,
        help="Write the report to FILE instead of printing it.")] = None,
    plan: Annotated[str | None, typer.Option(
        "--plan", metavar="NAME", help="Report on this plan (default: the active one).")] = None,
    learner: Annotated[str | None, typer.Option(
        "--learner", metavar="NAME", envvar="MLTRACK_LEARNER",
        help="The name the report gives (default: your git user.name).")] = None,
) -> None:
    """Export a progress report: completion per phase and overall, an activity calendar,
    streaks, attempts, time and hints per day, and benchmark figures against their targets
    with their trend over attempts and the hardware they were measured on."""
    from tracker import report as engine
    from tracker.errors import UnknownDay

    t = tracker()
    chosen = None
    if plan is not None:
        plans = t.plans()
        if plan not in plans:
            raise UnknownDay(f"unknown plan '{plan}'; plans: {', '.join(plans)}")
        chosen = plans[plan]
    text = engine.render(engine.build(t, chosen, learner=learner), fmt.value)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    render.console.print(f"wrote {output} ({fmt.value}, {len(text.encode()) // 1024 + 1} KiB)",
                         highlight=False)

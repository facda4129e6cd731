"""Commands on one day: start, grade, hint, solution, reset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tracker.cli import ci, render
from tracker.cli.app import EXIT_FAILED, EXIT_NO_VERDICT, tracker


def _complete_day(incomplete: str) -> list[str]:
    try:
        plan = tracker().plan
    except Exception:  # completion must never fail loudly
        return []
    return [d.label for d in plan.days if d.gradable and d.label.startswith(incomplete)]


Day = Annotated[str, typer.Argument(
    help="A day of the active plan: day53, 53 or day053.", autocompletion=_complete_day,
    show_default=False,
)]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
OptionalDay = Annotated[str | None, typer.Argument(
    help="A day of the active plan: day53, 53 or day053 (or use --changed / --all).",
    autocompletion=_complete_day, show_default=False,
)]


def start(day: Day, json: Json = False) -> None:
    """Copy the day's starter into solutions/<day>/ and show where to work."""
    target, path, created = tracker().start(day)
    if json:
        render.print_json({"day": target.day.day, "challenge": target.challenge.id,
                           "path": str(path), "created": created})
        return
    rel = _relative(path)
    if created:
        render.console.print(f"[green]started[/] {target.day.label}: edit [bold]{rel}[/]")
    else:
        render.console.print(f"{target.day.label} already started: your work is in [bold]{rel}[/]")
    render.console.print(f"read the spec: {_relative(target.challenge.spec_path)}")


def grade(
    day: OptionalDay = None,
    solution: Annotated[Path | None, typer.Option(
        "--solution", "-s", exists=True, file_okay=False, resolve_path=True,
        help="Grade this folder instead of solutions/<day>/ (not recorded, not committed).",
    )] = None,
    json: Json = False,
    no_commit: Annotated[bool, typer.Option(
        "--no-commit", help="Record the attempt but do not commit it.")] = False,
    changed: ci.Changed = False,
    since: ci.Since = None,
    all_: ci.All = False,
    ci_mode: ci.Ci = False,
    junit: ci.Junit = None,
    summary: ci.Summary = None,
    plan: ci.PlanName = None,
    manifest: ci.Manifest = None,
    hardware: ci.Hardware = None,
    skip_hardware: ci.SkipHardware = None,
) -> None:
    """Grade a day's solution in a sandboxed child process, record it and commit it.

    Exit code 0 only when the day passed; 1 when it did not; 3 when no verdict is possible
    here (a noisy measurement, or every check needs hardware this machine lacks).
    With --changed, --all or --ci: 0 when no graded day failed (skipped or inconclusive days
    do not), 1 when one did or a course file differs from the manifest.
    """
    if changed or all_ or ci_mode or junit or summary or hardware or skip_hardware:
        ci.grade_many(day=day, changed=changed, since=since, all_=all_, ci=ci_mode,
                      junit=junit, summary=summary, plan=plan, manifest=manifest,
                      hardware=hardware, skip_hardware=skip_hardware, json=json,
                      no_commit=no_commit, solution=solution)
    if day is None:
        raise typer.BadParameter("give a DAY, or --changed / --all", param_hint="DAY")
    if since or plan or manifest:
        raise typer.BadParameter("--since, --plan and --manifest go with --changed, --all "
                                 "or --ci", param_hint="DAY")
    t = tracker()
    with _progress(enabled=not json and render.console.is_terminal) as on_event:
        outcome = t.grade(day, solution=solution, commit=not no_commit, on_event=on_event)
    if json:
        render.print_json(outcome.to_dict())
    else:
        render.grade_outcome(outcome)
    verdict = str(outcome.result.verdict)
    if verdict in ("inconclusive", "skipped"):
        raise typer.Exit(EXIT_NO_VERDICT)
    if verdict != "passed":
        raise typer.Exit(EXIT_FAILED)


def hint(day: Day, json: Json = False) -> None:
    """Show the day's next hint (hints used are recorded)."""
    h = tracker().hint(day)
    if json:
        render.print_json({"number": h.number, "total": h.total, "text": h.text, "new": h.new})
        return
    if not h.new:
        render.console.print(f"[dim]all {h.total} hints are used; the last one again:[/]")
    render.console.print(f"[bold]hint {h.number}/{h.total}:[/] {render.escape(h.text)}")


def solution(day: Day) -> None:
    """Show the reference solution (only after you have passed the day)."""
    from rich.syntax import Syntax

    for path in tracker().reference(day):
        render.console.rule(str(_relative(path)))
        if path.suffix == ".py":
            render.console.print(Syntax(path.read_text(encoding="utf-8"), "python"))
        else:
            render.console.print(path.read_text(encoding="utf-8", errors="replace"))


def reset(
    day: Day,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Start a day over from its starter; your old work is kept in .mltrack/backups/."""
    t = tracker()
    target = t.resolve(day)
    if not yes:
        typer.confirm(f"Replace {_relative(t.solution_dir(target.challenge))} with the starter?",
                      abort=True)
    target, backup = t.reset(day)
    note = f"; your old work is in {_relative(backup)}" if backup else ""
    render.console.print(f"{target.day.label} reset to the starter{note}")


def _relative(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


class _progress:
    """A progress bar fed by the grader's live events (only on a terminal)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.progress = None
        self.task = None

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("[dim]{task.description}"), transient=True,
                                 console=render.console)
        self.progress.start()
        self.task = self.progress.add_task("starting", total=None)
        return self._on_event

    def _on_event(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "collected":
            self.progress.update(self.task, total=len(event.get("nodeids", [])))
        elif kind == "begin":
            self.progress.update(self.task, description=event["nodeid"].split("::")[-1])
        elif kind == "case":
            self.progress.advance(self.task)

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.stop()
        return False

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
    help="A day of the active plan: day53, 53 or day053 (default: the day in progress; or "
    "use --changed / --all).",
    autocompletion=_complete_day, show_default=False,
)]
Verbose = Annotated[bool, typer.Option(
    "--verbose", "-v", help="List every check and print the full traceback of each failure.")]


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
    verbose: Verbose = False,
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
    require_sandbox: ci.RequireSandbox = False,
) -> None:
    """Grade a day's solution in a sandboxed child process, record it and commit it.

    Without a DAY, the day in progress is graded (the one you worked on last, not yet passed).

    Exit code 0 only when the day passed; 1 when it did not; 3 when no verdict is possible
    here (a noisy measurement, or every check needs hardware this machine lacks).

    With --changed, --all or --ci: 0 when no graded day failed (skipped or inconclusive days
    do not), 1 when one did or a course file differs from the manifest.
    """
    if (changed or all_ or ci_mode or junit or summary or hardware or skip_hardware
            or require_sandbox):
        ci.grade_many(day=day, changed=changed, since=since, all_=all_, ci=ci_mode,
                      junit=junit, summary=summary, plan=plan, manifest=manifest,
                      hardware=hardware, skip_hardware=skip_hardware, json=json,
                      no_commit=no_commit, solution=solution, require_sandbox=require_sandbox)
    if since or plan or manifest:
        raise typer.BadParameter("--since, --plan and --manifest go with --changed, --all "
                                 "or --ci", param_hint="DAY")
    t = tracker()
    if day is None:
        day = day_in_progress(t)
        if not json:
            render.console.print(f"[dim]grading {day}, the day in progress[/]")
    with _progress(enabled=not json and render.console.is_terminal) as on_event:
        outcome = t.grade(day, solution=solution, commit=not no_commit, on_event=on_event)
    if json:
        render.print_json(outcome.to_dict())
    else:
        render.grade_outcome(outcome, verbose=verbose)
        if outcome.attempt_id is not None and outcome.result.verdict == "passed":
            render.next_steps(outcome, next_row(t, outcome.target.day.day))
    verdict = str(outcome.result.verdict)
    if verdict in ("inconclusive", "skipped"):
        raise typer.Exit(EXIT_NO_VERDICT)
    if verdict != "passed":
        raise typer.Exit(EXIT_FAILED)


def day_in_progress(t) -> str:
    """The label of the day being worked on: the started, not yet passed day touched last;
    else the first gradable day not passed. A NotStarted error when there is none."""
    from tracker.errors import NotStarted

    rows = t.rows()
    states = t.store.states()
    open_rows = [r for r in rows if r.day.gradable and r.status in
                 ("in-progress", "failed", "inconclusive")]

    def touched(row):
        state = states.get(row.day.challenge)
        stamps = [s for s in (state.last_attempt_at, state.started_at) if s] if state else []
        return max(stamps).isoformat() if stamps else ""

    if open_rows:
        return max(open_rows, key=touched).day.label
    nxt = next_row(t, 0)
    if nxt is None:
        raise NotStarted("every day of the plan with a grader is passed: name a DAY to grade")
    raise NotStarted(f"no day is in progress: run `mltrack start {nxt.day.label}` "
                     f"({nxt.day.title})")


def next_row(t, after: int):
    """The first gradable, not passed row of the plan after day `after` (or before it,
    when every later day is done); None when every such day is passed."""
    rows = [r for r in t.rows() if r.day.gradable and r.status not in ("passed", "skipped-hw")]
    later = [r for r in rows if r.day.day > after]
    return (later or rows or [None])[0]


def hint(
    day: Day,
    all_: Annotated[bool, typer.Option(
        "--all", help="Show the hints you have already seen (reveals nothing new).")] = False,
    yes: Annotated[bool, typer.Option(
        "--yes", "-y", help="Reveal without asking, even on a day not started.")] = False,
    json: Json = False,
) -> None:
    """Reveal the day's next hint (hints used are recorded), or re-read them with --all."""
    t = tracker()
    target = t.resolve(day)
    total = len(target.challenge.hints)
    if all_:
        shown = t.hints_shown(day)
        if json:
            render.print_json({"shown": shown, "total": total})
            return
        if not shown:
            render.console.print(f"no hint of {target.day.label} is revealed yet "
                                 f"({total} available: mltrack hint {target.day.label})")
        for number, text in enumerate(shown, 1):
            render.console.print(f"[bold]hint {number}/{total}:[/] {render.escape(text)}")
        return
    started = t.solution_dir(target.challenge).is_dir()
    if not started and not yes and t.store.hints_used(target.challenge.id) < total:
        typer.confirm(f"{target.day.label} is not started yet; reveal a hint anyway (it is "
                      "recorded)?", abort=True)
    h = t.hint(day)
    if json:
        render.print_json({"number": h.number, "total": h.total, "text": h.text, "new": h.new})
        return
    if not h.new:
        render.console.print(f"[dim]all {h.total} hints are used; the last one again:[/]")
    render.console.print(f"[bold]hint {h.number}/{h.total}:[/] {render.escape(h.text)}")


def spec(
    day: OptionalDay = None,
    pager: Annotated[bool, typer.Option(
        help="Page a spec longer than the terminal (off: print it all).")] = True,
) -> None:
    """Show a day's spec in the terminal (default: the day in progress)."""
    from rich.markdown import Markdown

    t = tracker()
    label = day or day_in_progress(t)
    target = t.resolve(label)
    render.console.rule(f"{target.day.label} · {render.escape(target.day.title)}")
    text = Markdown(target.challenge.spec())
    if pager and render.console.is_terminal:
        with render.console.pager(styles=True):
            render.console.print(text)
    else:
        render.console.print(text)
    hints = t.store.hints_used(target.challenge.id) if t.ws.db_path.exists() else 0
    render.console.print(f"[dim]work in {_relative(t.solution_dir(target.challenge))}; "
                         f"hints used {hints}/{len(target.challenge.hints)}; "
                         f"{target.challenge.points} points; "
                         f"{target.challenge.timeout_s:g} s to grade[/]")


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

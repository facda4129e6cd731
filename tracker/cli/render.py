"""Rich renderings of engine results for the terminal."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape  # noqa: F401  (re-exported for commands)
from rich.table import Table
from rich.text import Text

from tracker import labels

VERDICT_STYLE = {
    "passed": "bold green", "failed": "bold red", "error": "bold red", "timeout": "bold red",
    "crashed": "bold red", "inconclusive": "bold yellow", "skipped": "bold yellow",
}
OUTCOME_MARK = {
    "passed": "[green]✓[/]", "failed": "[red]✗[/]", "error": "[red]![/]",
    "skipped": "[yellow]-[/]", "inconclusive": "[yellow]?[/]", "not-run": "[dim]·[/]",
}
STATUS_STYLE = {
    "passed": "green", "failed": "red", "in-progress": "cyan", "skipped-hw": "yellow",
    "inconclusive": "yellow", "not-started": "white", "planned": "dim", "rest": "dim blue",
    "buffer": "dim blue",
}

console = Console(highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def grade_outcome(outcome, *, verbose: bool = False) -> None:
    """The verdict, then every check that did not pass with where it failed in the learner's
    own code; passing checks are one line (each listed with `verbose`, which also prints the
    full tracebacks)."""
    r, day = outcome.result, outcome.target.day
    style = VERDICT_STYLE.get(str(r.verdict), "bold")
    console.print(f"[bold]{day.label}[/] · {escape(day.title)}")
    console.print(f"[{style}]{str(r.verdict).upper()}[/] — {escape(r.message)}  "
                  f"[dim]({r.passed}/{r.total} checks, {r.duration_s:.1f} s)[/]")
    passed = [c for c in r.cases if str(c.outcome) == "passed"]
    if passed and not verbose:
        console.print(f"  {OUTCOME_MARK['passed']} {len(passed)} "
                      f"check{'s' if len(passed) != 1 else ''} passed")
    not_run = [c for c in r.cases if str(c.outcome) == "not-run"]
    shown_frames: list = []
    for c in r.cases:
        if str(c.outcome) in ("passed", "not-run") and not verbose:
            continue
        line = f"  {OUTCOME_MARK.get(str(c.outcome), '?')} {escape(c.name)}"
        if c.message:
            line += f"  [dim]{escape(c.message)}[/]"
        console.print(line)
        if str(c.outcome) in ("failed", "error") and c.details:
            shown_frames = _failure_place(c.details, shown_frames, verbose)
    if not_run and not verbose:
        console.print(f"  {OUTCOME_MARK['not-run']} {len(not_run)} "
                      f"check{'s' if len(not_run) != 1 else ''} not run (grading stopped above)")
    if shown_frames and not verbose:
        console.print("  [dim](the grader's own frames are hidden: `mltrack grade -v` shows the "
                      "full tracebacks)[/]")
    if r.metrics:
        console.print(metrics_table(r.metrics))
    if outcome.commit is not None:
        if outcome.commit.committed:
            console.print(f"[dim]recorded and committed {outcome.commit.sha[:10]}[/]")
        else:
            console.print(f"[dim]recorded; not committed: {escape(outcome.commit.reason)}[/]")
    elif outcome.attempt_id is not None:
        console.print("[dim]recorded (no commit)[/]")


def _failure_place(details: str, previous: list, verbose: bool) -> list:
    """Print where the learner's code failed (innermost frame first); returns the frames so
    that the next failure at the same place says so in one line."""
    from graders.results import learner_frames, summarise

    frames = learner_frames(details)
    if verbose:
        console.print(escape(_indent(summarise(details), "      ")), style="dim")
    elif frames and frames == previous:
        console.print("      [dim]at the same place as above[/]")
    else:
        for i, f in enumerate(reversed(frames)):
            lead = "at" if i == 0 else "called from"
            console.print(f"      [dim]{lead}[/] [bold]{escape(f.where())}[/]")
            if f.code:
                console.print(f"          {escape(f.code)}", style="cyan")
    return frames or previous


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def next_steps(outcome, next_row) -> None:
    """After a recorded pass: the reference is unlocked, and which day comes next."""
    label = outcome.target.day.label
    console.print(f"[green]the reference solution is unlocked:[/] mltrack solution {label}")
    if next_row is None:
        console.print("[green]that was the last day of the plan with a grader: well done[/]")
        return
    nxt = next_row.day
    how = "mltrack grade" if next_row.status in ("in-progress", "failed") else \
        f"mltrack start {nxt.label}"
    console.print(f"next: [bold]{nxt.label}[/] · {escape(nxt.title)}  [dim]({how})[/]")


def metrics_table(metrics) -> Table:
    table = Table(title="measured", title_justify="left", show_edge=False)
    for col in ("metric", "value", "target", "verdict"):
        table.add_column(col)
    for m in metrics:
        verdict = m.verdict or "recorded"
        colour = {"PASS": "green", "FAIL": "red", "INCONCLUSIVE": "yellow"}.get(m.verdict, "dim")
        table.add_row(m.name, f"{m.value:.4g} {m.unit}".strip(), m.target or "—",
                      f"[{colour}]{verdict}[/]")
    return table


def status_table(plan, rows, done: set[int] = frozenset()) -> Table:
    # styled Text rather than markup: a plan has ~150 rows and `mltrack status` should
    # answer at once (markup parsing was a quarter of the drawing)
    table = Table(title=f"{plan.title} ({plan.id})", title_justify="left")
    table.add_column("day", justify="right")
    table.add_column("title")
    table.add_column("status")
    table.add_column("attempts", justify="right")
    phase = None
    for row in rows:
        d = row.day
        if d.phase != phase:
            phase = d.phase
            p = plan.phase(phase)
            other = labels.phase_secondary(p)
            head = Text(f"Phase {p.number}: {p.title} · {labels.phase_span(p)}", style="bold")
            if other:
                head.append(f" (curriculum: {other})", style="dim")
            table.add_row("", head, "", "")
        number = f"{d.day}–{d.until}" if d.until else str(d.day)
        title, calendar = labels.day_title(d)
        cell = Text(title)
        if calendar:
            cell.append(f" ({calendar})", style="dim")
        status = Text(row.status, style=STATUS_STYLE.get(row.status, ""))
        if d.day in done:
            status.append(" ✓ done", style="green")
        table.add_row(number, cell, status, str(row.attempts or ""))
    return table

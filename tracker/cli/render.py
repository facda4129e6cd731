"""Rich renderings of engine results for the terminal."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape  # noqa: F401  (re-exported for commands)
from rich.table import Table

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


def grade_outcome(outcome) -> None:
    r, day = outcome.result, outcome.target.day
    style = VERDICT_STYLE.get(str(r.verdict), "bold")
    console.print(f"[bold]{day.label}[/] · {escape(day.title)}")
    console.print(f"[{style}]{str(r.verdict).upper()}[/] — {escape(r.message)}  "
                  f"[dim]({r.passed}/{r.total} checks, {r.duration_s:.1f} s)[/]")
    for c in r.cases:
        line = f"  {OUTCOME_MARK.get(str(c.outcome), '?')} {escape(c.name)}"
        if c.message:
            line += f"  [dim]{escape(c.message)}[/]"
        console.print(line)
    if r.metrics:
        console.print(metrics_table(r.metrics))
    if outcome.commit is not None:
        if outcome.commit.committed:
            console.print(f"[dim]recorded and committed {outcome.commit.sha[:10]}[/]")
        else:
            console.print(f"[dim]recorded; not committed: {escape(outcome.commit.reason)}[/]")
    elif outcome.attempt_id is not None:
        console.print("[dim]recorded (no commit)[/]")


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


def status_table(plan, rows) -> Table:
    table = Table(title=f"{plan.title} ({plan.id})", title_justify="left")
    table.add_column("day", justify="right")
    table.add_column("title")
    table.add_column("status")
    table.add_column("tries", justify="right")
    phase = None
    for row in rows:
        d = row.day
        if d.phase != phase:
            phase = d.phase
            p = plan.phase(phase)
            table.add_row("", f"[bold]Phase {p.number}: {escape(p.title)}[/]", "", "")
        number = f"{d.day}–{d.until}" if d.until else str(d.day)
        style = STATUS_STYLE.get(row.status, "")
        table.add_row(number, escape(d.title), f"[{style}]{row.status}[/]",
                      str(row.attempts or ""))
    return table

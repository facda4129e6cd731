"""The day's headline: title, status, attempts, hints, where to edit, watch mode."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tracker import labels
from tracker.tui.model import DayDetail, look, relative


class DayHeader(Static):
    def show(self, detail: DayDetail, root, *, watching: bool) -> None:
        day, ch = detail.target.day, detail.target.challenge
        phase = detail.target.plan.phase(day.phase)
        glyph, label, style = look(detail.status)
        name, calendar = labels.day_title(day)
        title = Text.assemble((f"{day.label} · {name}", "bold"),
                              (f"  ({calendar})" if calendar else "", "dim"))
        facts = Text()
        facts.append(f"{glyph} {label}", style=style)
        count = len(detail.attempts)
        facts.append(f" · {count} attempt{'s' if count != 1 else ''}")
        facts.append(f" · hints {len(detail.hints)}/{detail.hints_total}")
        facts.append(f" · {ch.points} points")
        facts.append(f" · phase {phase.number}: {phase.title} ({labels.phase_span(phase)})",
                     style="dim")
        if ch.tags:
            facts.append(" · " + " ".join(f"#{t}" for t in ch.tags), style="magenta")
        work = Text()
        if detail.started:
            work.append("edit ")
            work.append(relative(detail.solution, root), style="bold")
        else:
            work.append("not started: press s to copy the starter into solutions/", style="yellow")
        if watching:
            work.append("   watching: re-grades on every save", style="bold cyan")
        self.update(Text("\n").join([title, facts, work]))

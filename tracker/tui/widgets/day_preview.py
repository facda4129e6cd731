"""The highlighted day in a few lines under the plan list."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tracker import labels
from tracker.plan import PlanDay
from tracker.tui.model import Standing, look


class DayPreview(Static):
    def show(self, day: PlanDay | None, standing: Standing, tags: tuple[str, ...]) -> None:
        if day is None:
            self.update(Text("no day matches the filter", style="dim"))
            return
        phase = standing.plan.phase(day.phase)
        glyph, label, style = look(standing.status(day))
        name, calendar = labels.day_title(day)
        title = Text.assemble((f"{day.label} · ", "bold"), (name, "bold"),
                              (f"  ({calendar})" if calendar else "", "dim"))
        facts = Text()
        facts.append(f"{glyph} {label or 'reading…'}", style=style)
        row = standing.row(day)
        if row is not None and row.attempts:
            facts.append(f" · {labels.attempts(row.attempts)}")
        facts.append(f" · phase {phase.number}: {phase.title} ({labels.phase_span(phase)})",
                     style="dim")
        if tags:
            facts.append(" · " + " ".join(f"#{t}" for t in tags), style="magenta")
        if day.kind == "rest":
            hint = "rest day: nothing to grade · enter: read it, mark it done, keep a note"
        elif day.kind == "buffer":
            hint = "buffer: catch up on an earlier day · enter: mark it done, keep a note"
        elif day.challenge is None:
            hint = "no grader yet · enter: read it, mark it done, keep a note"
        else:
            hint = "enter: open the day · s: start · g: grade"
        self.update(Text("\n").join([title, facts, Text(hint, style="dim italic")]))

"""The plan's headline: overall progress, the streak and the day to do next."""

from __future__ import annotations

import textwrap

from rich.text import Text
from textual.widgets import Static

from tracker.tui.model import Standing, bar


class SummaryBar(Static):
    def show(self, standing: Standing) -> None:
        plan = standing.plan
        done, total = standing.overall()
        head = Text.assemble((plan.title, "bold"), (f"  {plan.id}", "dim"))
        line = Text()
        if total:
            count = "…" if done is None else str(done)
            percent = "" if done is None else f" {100 * done // total}%"
            line.append(f"passed {count}/{total} graded days ")
            line.append_text(bar(done, total, 24))
            line.append(percent)
        else:
            line.append("no graded days in this plan yet", style="dim")
        lines = [head, line]
        if standing.problem:  # the bar does not wrap by itself: the whole message matters
            width = max(40, (self.size.width or 100) - 2)
            lines += [Text(part, style="bold red")
                      for part in textwrap.wrap(standing.problem, width)]
        elif not standing.loaded:
            line.append("   reading your record…", style="dim")
        else:
            days = standing.streak
            line.append(" · streak ")
            line.append(f"{days} day{'s' if days != 1 else ''}", style="bold")
            upcoming = standing.next()
            if upcoming is not None:
                lines.append(Text.assemble("next: ", (f"{upcoming.day.label} · "
                                                      f"{upcoming.day.title}", "bold cyan")))
            elif total and done == total:
                lines.append(Text("every graded day is passed", style="bold green"))
            elif total:
                lines.append(Text("nothing left to do here: the days not passed need other "
                                  "hardware", style="yellow"))
        self.update(Text("\n").join(lines))

"""The verdict of the latest grade, or the live progress of the one running."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from tracker.tui.grading import GradeRun
from tracker.tui.model import VERDICT_STYLE, DayDetail, when


class GradePanel(Vertical):
    def compose(self) -> ComposeResult:
        yield Static(id="grade-text")
        yield ProgressBar(id="grade-bar", show_eta=False)

    def show_latest(self, detail: DayDetail, tz) -> None:
        """At rest: the latest attempt's verdict (or what to do first)."""
        self.remove_class("-running")
        latest = detail.latest
        if latest is None:
            text = Text("not graded yet: press g to grade" if detail.started
                        else "not started: press s to start, then g to grade", style="dim")
        else:
            text = _verdict(latest.verdict, latest.message)
            text.append(f"\nattempt {len(detail.attempts)} · {when(latest.finished_at, tz)} · "
                        f"{latest.passed}/{latest.total} checks passed · "
                        f"{latest.duration_s:.1f} s", style="dim")
        self.query_one("#grade-text", Static).update(text)

    def show_run(self, run: GradeRun) -> None:
        """While grading: progress over the collected checks and the one running."""
        text_widget = self.query_one("#grade-text", Static)
        bar = self.query_one("#grade-bar", ProgressBar)
        if run.outcome is not None:
            r = run.outcome.result
            self.remove_class("-running")
            text = _verdict(str(r.verdict), r.message)
            text.append(f"\n{r.passed}/{r.total} checks passed · {r.duration_s:.1f} s", style="dim")
            text_widget.update(text)
            return
        if run.cancelled or run.error is not None:
            self.remove_class("-running")
            why = "stopped" if run.cancelled else run.error
            text_widget.update(Text(f"grading stopped: {why}", style="yellow"))
            return
        self.add_class("-running")
        bar.update(total=run.total, progress=len(run.cases))
        line = Text("grading… ", style="bold")
        if run.total is None:
            line.append("starting the grader", style="dim")
        else:
            line.append(f"{len(run.cases)}/{run.total} checks")
            if run.current:
                line.append(f" · {run.current}", style="dim")
        text_widget.update(line)


def _verdict(verdict: str, message: str) -> Text:
    style = VERDICT_STYLE.get(verdict, "bold")
    return Text.assemble((verdict.upper(), f"bold {style}"), (" — ", "dim"), message)

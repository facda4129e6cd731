"""Per-check results: the latest attempt's, or live ones while a grade runs."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from tracker.tui.grading import GradeRun
from tracker.tui.model import OUTCOME_LOOK


def _name(nodeid: str) -> str:
    return nodeid.split("::", 1)[-1]


class CaseTable(DataTable):
    """One row per check; the highlighted check's details show in the CaseDetail below."""

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.cases: list[dict[str, Any]] = []

    def on_mount(self) -> None:
        self.add_column("", key="mark", width=1)
        self.add_column("check", key="check")
        self.add_column("result", key="result", width=12)
        self.add_column("message", key="message")

    def show_records(self, records, *, first_failure: bool = False) -> None:
        """The stored checks of an attempt (CaseRecord rows); with `first_failure`, the
        cursor goes to the first check that failed."""
        self._fill([{"nodeid": c.nodeid, "outcome": c.outcome, "message": c.message,
                     "details": c.details} for c in records])
        failing = [i for i, c in enumerate(self.cases) if c["outcome"] in ("failed", "error")]
        if first_failure and failing:
            self.move_cursor(row=failing[0], animate=False)

    def show_run(self, run: GradeRun) -> None:
        """Finished checks as they come, the rest as pending."""
        done = {c["nodeid"]: c for c in run.cases}
        rows = [done.get(n, {"nodeid": n, "outcome": "pending", "message": "", "details": ""})
                for n in run.nodeids]
        rows += [c for c in run.cases if c["nodeid"] not in set(run.nodeids)]
        self._fill(rows)

    def _fill(self, cases: list[dict[str, Any]]) -> None:
        row = self.cursor_row
        self.cases = cases
        self.clear()
        for case in cases:
            mark, style = OUTCOME_LOOK.get(case["outcome"], ("…", "dim"))
            message = (case.get("message") or "").splitlines()
            self.add_row(Text(mark, style=style), _name(case["nodeid"]),
                         Text(case["outcome"], style=style),
                         Text(message[0] if message else "", style="dim"))
        if cases:
            self.move_cursor(row=min(row, len(cases) - 1), animate=False)

    def highlighted_case(self) -> dict[str, Any] | None:
        if not self.cases or self.cursor_row < 0 or self.cursor_row >= len(self.cases):
            return None
        return self.cases[self.cursor_row]

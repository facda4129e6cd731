"""A day without a grader (a rest day, a buffer, a day whose challenge is not built yet):
what the curriculum says about it, whether it is done, and the learner's notes on it.

`m` marks it done and `n` keeps a note; both are stored in progress.db.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from tracker import labels
from tracker.plan import PlanDay
from tracker.tui.screens.note import NoteScreen

WHAT = {
    "rest": "A rest day: nothing to grade. Rest, or read around what you did this week; "
            "press m when the day is done.",
    "buffer": "Buffer days: catch up on an earlier day, or go deeper into one; press m when "
              "you are done with them.",
    "planned": "The curriculum's day, without a grader yet: read up on it and try it on your "
               "own; press m when you are done, and n to keep a note of what you did.",
}


def read_quiet_day(tracker, day: PlanDay) -> tuple[bool, list]:
    """(marked done, notes oldest first) of a day of the active plan."""
    plan = tracker.plan
    store = tracker.store
    return day.day in store.days_done(plan.id), store.notes(plan=plan.id, day=day.day)


class QuietDayScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", key_display="esc"),
        Binding("m", "mark_done", "Mark done"),
        Binding("n", "note", "Note"),
    ]
    DEFAULT_CSS = """
    QuietDayScreen #quiet-body { padding: 1 2; }
    QuietDayScreen #quiet-notes { margin-top: 1; }
    """

    def __init__(self, day: PlanDay):
        super().__init__()
        self.day = day
        self.done = False
        self.notes: list = []

    @property
    def label(self) -> str:
        return self.day.label

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="quiet-body"):
            yield Static(id="quiet-head")
            yield Static(id="quiet-notes")
        yield Footer()

    def on_mount(self) -> None:
        title, _ = labels.day_title(self.day)
        self.sub_title = f"{self.label} · {title}"
        self._draw()
        self.reload()

    def reload(self) -> None:
        tracker = self.app.tracker
        self.app.in_thread(lambda: read_quiet_day(tracker, self.day), self._loaded,
                           group=f"quiet-{self.day.day}", exclusive=True)

    def _loaded(self, found) -> None:
        self.done, self.notes = found[0], list(found[1])
        self._draw()

    def _draw(self) -> None:
        day = self.day
        title, calendar = labels.day_title(day)
        phase = self.app.tracker.quick_plan().phase(day.phase)
        kind = day.kind if day.kind in ("rest", "buffer") else "planned"
        head = Text.assemble((f"{day.label} · {title}", "bold"),
                             (f"  ({calendar})" if calendar else "", "dim"))
        head.append(f"\nphase {phase.number}: {phase.title} ({labels.phase_span(phase)})",
                    style="dim")
        head.append("\n✓ done" if self.done else "\nnot marked done yet",
                    style="green" if self.done else "yellow")
        head.append("\n\n" + WHAT[kind])
        self.query_one("#quiet-head", Static).update(head)
        notes = Text("Your notes", style="bold underline")
        if not self.notes:
            notes.append("\nnone yet: press n to write one", style="dim")
        for n in self.notes:
            notes.append(f"\n{n.created_at:%Y-%m-%d}  ", style="dim")
            notes.append(n.text)
        self.query_one("#quiet-notes", Static).update(notes)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_mark_done(self) -> None:
        tracker, day = self.app.tracker, self.day

        def marked(_result) -> None:
            self.notify(f"{day.label} marked done")
            self.reload()
            self.app.reload()

        self.app.in_thread(lambda: tracker.store.mark_day_done(plan=tracker.plan.id,
                                                               day=day.day), marked,
                           group="mark-done")

    def action_note(self) -> None:
        self.app.push_screen(NoteScreen(self.label), self._keep_note)

    def _keep_note(self, text: str | None) -> None:
        if text:
            keep_note(self.app, self.day, text, self.reload)


def keep_note(app, day: PlanDay, text: str, then) -> None:
    """Store a note on `day` in a worker, then call `then()` on the UI thread."""
    tracker = app.tracker

    def kept(_note) -> None:
        app.notify(f"note kept on {day.label}")
        then()

    app.in_thread(lambda: tracker.store.add_note(plan=tracker.plan.id, day=day.day, text=text),
                  kept, group="note")

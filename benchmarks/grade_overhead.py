"""Grading overhead and CLI start-up, as ratios against baselines measured in the same run.

    python benchmarks/grade_overhead.py [--rounds 7] [--json]

- grade: `mltrack grade day1 --no-commit` (reference solution in a temporary workspace:
  child process, scratch copies, db write) and the same with the git commit, against a
  bare `python -m pytest` of the same grader with the same plugin;
- sandbox: the same grade without the OS sandbox (MLTRACK_SANDBOX=off); the difference is
  what bubblewrap costs (the mode probe included), to stay under 50 ms. On a loaded machine
  that difference drowns in noise, so the sandbox's own start is also timed alone: the
  grade's bwrap command line running `true`, against `true`;
- start-up: `mltrack --help` and `mltrack status` against `python -c pass`.
Rounds are interleaved so that a load change affects every command alike; medians reported.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from graders import cgroup, sandbox
from tracker import manifest

ROOT = Path(__file__).resolve().parent.parent


def workspace(tmp: Path) -> Path:
    root = tmp / "course"
    shutil.copytree(ROOT / "challenges", root / "challenges")
    (root / ".gitignore").write_text("progress.db-wal\nprogress.db-shm\n.mltrack/\n")
    sol = root / "solutions" / "day001"
    sol.mkdir(parents=True)
    shutil.copyfile(ROOT / "challenges/day001/reference/solution.py", sol / "solution.py")
    manifest.write(root)  # the course as this tree has it, even while it is being edited
    for args in (["init", "-q"], ["config", "user.name", "bench"],
                 ["config", "user.email", "bench@example.com"], ["add", "-A"],
                 ["commit", "-qm", "course"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root


def _sandboxed_true(root: Path, tmp: Path) -> list[str]:
    """`true` in the sandbox a grade of day 1 gets (plain `true` where there is none)."""
    mode = sandbox.detect()
    if not mode.sandboxed:
        return ["true"]
    scratch = tmp / "scratch"
    for sub in ("solution", "grader", "tmp"):
        (scratch / sub).mkdir(parents=True)
    paths = sandbox.Paths(scratch=scratch, cwd=scratch / "solution",
                          read_only=(scratch / "grader",),
                          hidden=sandbox.workspace_secrets(root / "challenges/day001",
                                                           root / "solutions/day001"))
    return sandbox.command(mode, ["true"], paths)


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0,):
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    mltrack = shutil.which("mltrack") or sys.exit("mltrack is not installed (pip install -e .)")
    with tempfile.TemporaryDirectory() as tmp:
        root = workspace(Path(tmp))
        # as on a learner's machine: modules compiled once, not on every start (a shell
        # with PYTHONDONTWRITEBYTECODE=1 would time the compiler too)
        env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
               "MLTRACK_WORKSPACE": str(root)}
        bare_env = {**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        commands = {
            "bare pytest": ([sys.executable, "-m", "pytest", "-q", "-p", "graders.plugin",
                             "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir",
                             str(root / "challenges/day001"), "--mltrack-solution",
                             str(root / "solutions/day001"), str(root / "challenges/day001")],
                            bare_env),
            "mltrack grade --no-commit": ([mltrack, "grade", "day1", "--no-commit"], env),
            "same, no sandbox": ([mltrack, "grade", "day1", "--no-commit"],
                                 {**env, "MLTRACK_SANDBOX": "off"}),
            "mltrack grade (commit)": ([mltrack, "grade", "day1"], env),
            "true": (["true"], env),
            "bwrap true": (_sandboxed_true(root, Path(tmp)), env),
            "python -c pass": ([sys.executable, "-c", "pass"], env),
            "mltrack --help": ([mltrack, "--help"], env),
            "mltrack status": ([mltrack, "status"], env),
        }
        timed(commands["mltrack grade --no-commit"][0], root, env)  # creates the db, warms caches
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, (command, command_env) in commands.items():
                samples[name].append(timed(command, root, command_env))
    med = {name: statistics.median(values) for name, values in samples.items()}
    bare = med["bare pytest"]
    report = {
        "rounds": args.rounds,
        "sandbox": sandbox.detect().describe(),
        "cgroup": cgroup.detect().describe(),
        "median_s": {k: round(v, 4) for k, v in med.items()},
        "ratios": {
            "grade/bare pytest": round(med["mltrack grade --no-commit"] / bare, 2),
            "grade+commit/bare pytest": round(med["mltrack grade (commit)"] / bare, 2),
            "--help/python": round(med["mltrack --help"] / med["python -c pass"], 2),
            "status/python": round(med["mltrack status"] / med["python -c pass"], 2),
        },
        "overhead_s": {
            "grade": round(med["mltrack grade --no-commit"] - bare, 3),
            "grade+commit": round(med["mltrack grade (commit)"] - bare, 3),
            "sandbox": round(med["mltrack grade --no-commit"] - med["same, no sandbox"], 3),
            "sandbox start": round(med["bwrap true"] - med["true"], 4),
        },
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"sandbox: {report['sandbox']}\ncgroup: {report['cgroup']}")
    print(f"medians over {args.rounds} interleaved rounds:")
    for name, value in med.items():
        print(f"  {name:28s} {value * 1000:8.1f} ms")
    for name, value in report["ratios"].items():
        print(f"  ratio {name:22s} {value:6.2f}x")
    for name, value in report["overhead_s"].items():
        print(f"  overhead {name:19s} {value * 1000:8.1f} ms")


if __name__ == "__main__":
    main()

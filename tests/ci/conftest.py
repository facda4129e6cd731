"""Fixtures for CI grading: the fixture course with a manifest, a third challenge whose
grader has a tolerance a solution could try to loosen, and the real `mltrack` command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git
from tracker import manifest

CLOSE_GRADER = '''\
from graders import expect

TOLERANCE = 1e-9


def test_square_root_of_two(solution):
    expect.close(solution.root2(), 2 ** 0.5, what="root2()", rtol=TOLERANCE)


def test_within_the_tolerance(solution):
    assert abs(solution.root2() - 2 ** 0.5) <= TOLERANCE, "root2() is not √2 within 1e-9"
'''

CLOSE_DAY = '''
[[phases]]
number = 3
title = "Numbers"

[[phases.days]]
day = 8
title = "The square root of two"
challenge = "close"
'''


def add_close_challenge(root: Path) -> None:
    """challenges/close: `root2()` must return √2 within 1e-9 (plan day 8)."""
    folder = root / "challenges" / "close"
    (folder / "reference").mkdir(parents=True)
    (folder / "challenge.toml").write_text(
        'id = "close"\ntitle = "The square root of two"\napi = ["root2"]\ntimeout_s = 20\n'
        'memory_mb = 512\nhints = ["2 ** 0.5"]\n', encoding="utf-8")
    (folder / "spec.md").write_text("# √2\nReturn √2 within 1e-9.\n", encoding="utf-8")
    (folder / "starter.py").write_text("def root2():\n    raise NotImplementedError\n",
                                       encoding="utf-8")
    (folder / "reference" / "solution.py").write_text("def root2():\n    return 2 ** 0.5\n",
                                                      encoding="utf-8")
    (folder / "test_close.py").write_text(CLOSE_GRADER, encoding="utf-8")
    plan = root / "challenges" / "plans" / "mini.toml"
    plan.write_text(plan.read_text(encoding="utf-8") + CLOSE_DAY, encoding="utf-8")


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD")


@pytest.fixture
def course(workspace):
    """The fixture course plus `close`, with a committed manifest: what a learner clones."""
    add_close_challenge(workspace.root)
    manifest.write(workspace.root)
    commit_all(workspace.root, "course with manifest")
    return workspace


@pytest.fixture
def solve(course):
    """Write solutions/<challenge>/solution.py (a fixture name or literal code)."""
    fixtures = Path(__file__).parent.parent / "fixtures" / "solutions"

    def write(challenge: str, source: str) -> Path:
        folder = course.solutions_dir / challenge
        folder.mkdir(parents=True, exist_ok=True)
        code = source if "\n" in source else (fixtures / f"{source}.py").read_text()
        (folder / "solution.py").write_text(code, encoding="utf-8")
        return folder

    return write


def run_mltrack(root: Path, *args: str, input: str | None = None, env: dict | None = None
                ) -> subprocess.CompletedProcess:
    """The installed command, as CI runs it (no MLTRACK_WORKSPACE: it finds the course)."""
    environ = {k: v for k, v in os.environ.items() if k != "MLTRACK_WORKSPACE"}
    environ.update(COLUMNS="150", **(env or {}))
    exe = shutil.which("mltrack")
    command = [exe] if exe else [sys.executable, "-m", "tracker.cli"]
    return subprocess.run([*command, *args], cwd=root, capture_output=True, text=True,
                          env=environ, input=input, timeout=300)


@pytest.fixture
def mltrack(course):
    def run(*args: str, **kw) -> subprocess.CompletedProcess:
        return run_mltrack(course.root, *args, **kw)

    return run


def ci_json(done: subprocess.CompletedProcess) -> dict:
    assert done.stdout.strip(), done.stderr
    return json.loads(done.stdout)


def by_challenge(data: dict) -> dict[str, dict]:
    return {d["challenge"]: d for d in data["days"]}

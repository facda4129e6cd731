"""Shared fixtures: a real temporary workspace (a copy of the fixture course, `git init`,
a fresh progress.db) and helpers to write solutions into it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracker.engine import Tracker
from tracker.workspace import Workspace

# the fixture course's graders are graded by the tests, not collected as tests themselves
collect_ignore = ["fixtures"]

FIXTURE_COURSE = Path(__file__).parent / "fixtures" / "course"
SOLUTIONS = Path(__file__).parent / "fixtures" / "solutions"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                          text=True).stdout.strip()


def init_repo(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Learner")
    git(root, "config", "user.email", "learner@example.com")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "course")


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """The fixture course in a fresh git repository with one commit."""
    root = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, root)
    init_repo(root)
    return Workspace(root)


@pytest.fixture
def clock() -> Callable[[], datetime]:
    return lambda: datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


@pytest.fixture
def tracker(workspace: Workspace, clock) -> Tracker:
    t = Tracker(workspace, clock=clock)
    yield t
    if t._store is not None:
        t._store.close()


@pytest.fixture
def write_solution(workspace: Workspace) -> Callable[[str, str], Path]:
    """Put `source` (a name in tests/fixtures/solutions or literal code) into solutions/<id>/."""

    def write(challenge: str, source: str) -> Path:
        folder = workspace.solutions_dir / challenge
        folder.mkdir(parents=True, exist_ok=True)
        is_name = "\n" not in source
        code = (SOLUTIONS / f"{source}.py").read_text(encoding="utf-8") if is_name else source
        (folder / "solution.py").write_text(code, encoding="utf-8")
        return folder

    return write

"""`mltrack ci install-hook`: a real pre-push hook, exercised by real pushes to a local bare
repository."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.ci.conftest import commit_all
from tests.conftest import git


def push(root, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MLTRACK_WORKSPACE"}
    return subprocess.run(["git", "push", *args], cwd=root, capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture
def remote(course, tmp_path):
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    git(course.root, "remote", "add", "origin", str(bare))
    assert push(course.root, "-q", "-u", "origin", "main").returncode == 0
    return bare


def remote_head(bare, branch: str = "main") -> str:
    return git(bare, "rev-parse", branch)


def test_the_hook_stops_a_push_whose_committed_solution_fails(course, solve, mltrack, remote):
    done = mltrack("ci", "install-hook")
    assert done.returncode == 0, done.stderr
    hook = course.root / ".git" / "hooks" / "pre-push"
    assert os.access(hook, os.X_OK) and "mltrack ci install-hook" in hook.read_text()
    before = remote_head(remote)

    solve("add", "add_fail")
    commit_all(course.root, "day 1, wrong")
    blocked = push(course.root, "origin", "main")
    assert blocked.returncode != 0
    assert "day1 add: failed" in blocked.stderr and "push stopped" in blocked.stderr
    assert remote_head(remote) == before

    solve("add", "add_pass")  # fixed in the working tree only: the pushed commit still fails
    assert push(course.root, "origin", "main").returncode != 0
    assert remote_head(remote) == before

    fixed = commit_all(course.root, "day 1, right")
    allowed = push(course.root, "origin", "main")
    assert allowed.returncode == 0, allowed.stderr
    assert "day1 add: passed" in allowed.stderr
    assert remote_head(remote) == fixed


def test_pushes_that_change_no_solution_are_not_graded(course, mltrack, remote):
    assert mltrack("ci", "install-hook").returncode == 0
    (course.root / "NOTES.md").write_text("notes\n")
    head = commit_all(course.root, "notes")
    done = push(course.root, "origin", "main")
    assert done.returncode == 0, done.stderr
    assert "grading" not in done.stderr and remote_head(remote) == head


def test_a_new_branch_is_graded_on_every_solution_it_carries(course, solve, mltrack, remote):
    assert mltrack("ci", "install-hook").returncode == 0
    git(course.root, "checkout", "-q", "-b", "feature")
    solve("close", "def root2():\n    return 1.4\n")
    commit_all(course.root, "day 8, wrong")
    done = push(course.root, "origin", "feature")
    assert done.returncode != 0 and "day8 close: failed" in done.stderr
    assert push(course.root, "--no-verify", "origin", "feature").returncode == 0  # opt out


def test_a_foreign_hook_is_kept_unless_forced(course, mltrack):
    hook = course.root / ".git" / "hooks" / "pre-push"
    hook.write_text("#!/bin/sh\nexit 0\n")
    refused = mltrack("ci", "install-hook")
    assert refused.returncode == 2 and "is not mltrack's" in refused.stderr
    assert mltrack("ci", "install-hook", "--force").returncode == 0
    assert (hook.parent / "pre-push.backup").read_text() == "#!/bin/sh\nexit 0\n"
    assert mltrack("ci", "uninstall-hook").returncode == 0 and not hook.exists()

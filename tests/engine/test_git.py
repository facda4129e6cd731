"""A grade commits exactly the day's solution folder and progress.db, or says why not."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

from tests.conftest import git


def committed_files(root, rev="HEAD"):
    return set(git(root, "show", "--name-only", "--format=", rev).splitlines())


def test_a_grade_commits_the_solution_and_the_db_with_the_verdict(tracker, workspace,
                                                                   write_solution):
    write_solution("add", "add_pass")
    outcome = tracker.grade("day1")
    assert outcome.commit.committed, outcome.commit.reason
    assert committed_files(workspace.root) == {"solutions/add/solution.py", "progress.db"}
    assert git(workspace.root, "log", "-1", "--format=%s") == (
        "mltrack: day1 passed (2/2 checks passed)")


def test_the_learners_other_changes_are_never_committed(tracker, workspace, write_solution):
    (workspace.root / "notes.md").write_text("staged")
    git(workspace.root, "add", "notes.md")
    (workspace.root / "scratch.txt").write_text("untracked")
    spec = workspace.challenges_dir / "add" / "spec.md"
    spec.write_text(spec.read_text() + "\nmy edit\n")
    write_solution("add", "add_fail")
    outcome = tracker.grade("1")
    assert outcome.commit.committed
    assert committed_files(workspace.root) == {"solutions/add/solution.py", "progress.db"}
    status = git(workspace.root, "status", "--porcelain")
    assert "A  notes.md" in status and "?? scratch.txt" in status
    assert "M challenges/add/spec.md" in status
    assert "challenges/add/spec.md" not in committed_files(workspace.root)


def test_no_repository_grades_anyway_and_says_why(tracker, workspace, write_solution):
    shutil.rmtree(workspace.root / ".git")
    write_solution("add", "add_pass")
    outcome = tracker.grade("1")
    assert outcome.result.verdict == "passed" and outcome.attempt_id is not None
    assert (outcome.commit.committed, outcome.commit.reason) == (False, "not a git repository")


def test_a_detached_head_skips_the_commit(tracker, workspace, write_solution):
    git(workspace.root, "checkout", "-q", "--detach")
    write_solution("add", "add_pass")
    outcome = tracker.grade("1")
    assert not outcome.commit.committed and "HEAD is detached" in outcome.commit.reason


def test_a_merge_in_progress_skips_the_commit(tracker, workspace, write_solution):
    root = workspace.root
    git(root, "checkout", "-q", "-b", "other")
    (root / "README").write_text("other\n")
    git(root, "add", "README")
    git(root, "commit", "-qm", "other")
    git(root, "checkout", "-q", "main")
    (root / "README").write_text("main\n")
    git(root, "add", "README")
    git(root, "commit", "-qm", "main")
    subprocess.run(["git", "merge", "other"], cwd=root, capture_output=True)
    assert (root / ".git" / "MERGE_HEAD").exists()
    head = git(root, "rev-parse", "HEAD")
    write_solution("add", "add_pass")
    outcome = tracker.grade("1")
    assert (outcome.commit.committed, outcome.commit.reason) == (False, "a merge is in progress")
    assert git(root, "rev-parse", "HEAD") == head


def test_no_identity_skips_the_commit(tracker, workspace, write_solution, monkeypatch, tmp_path):
    git(workspace.root, "config", "--unset", "user.name")
    git(workspace.root, "config", "--unset", "user.email")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no global identity either
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    write_solution("add", "add_pass")
    outcome = tracker.grade("1")
    assert not outcome.commit.committed and "no identity" in outcome.commit.reason


def test_history_is_only_ever_appended(tracker, workspace, write_solution):
    before = git(workspace.root, "rev-parse", "HEAD")
    write_solution("add", "add_fail")
    tracker.grade("1")
    write_solution("add", "add_pass")
    tracker.grade("1")
    log = git(workspace.root, "log", "--format=%H").splitlines()
    assert log[-1] == before and len(log) == 3


def test_a_lock_left_by_a_crashed_git_is_named_at_once(tracker, workspace, write_solution):
    lock = workspace.root / ".git" / "index.lock"
    lock.write_text("")
    old = time.time() - 60
    os.utime(lock, (old, old))
    write_solution("add", "add_pass")
    started = time.monotonic()
    outcome = tracker.grade("1")
    assert time.monotonic() - started < 5, "waited on a lock nobody holds"
    assert outcome.result.verdict == "passed" and not outcome.commit.committed
    assert "remove .git/index.lock" in outcome.commit.reason
    lock.unlink()
    write_solution("add", "def add(a, b):\n    return b + a\n")
    assert tracker.grade("1").commit.committed  # and the next grade commits again

"""Commit a grade: exactly the day's solution folder and progress.db, nothing else.

A grade never fails because of git: when a commit is not possible or not safe (no
repository, detached HEAD, merge/rebase in progress, no identity) it is skipped with
the reason, and the learner's other changes, staged or not, are never committed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

_IN_PROGRESS = {
    "MERGE_HEAD": "a merge is in progress",
    "rebase-merge": "a rebase is in progress",
    "rebase-apply": "a rebase or `git am` is in progress",
    "CHERRY_PICK_HEAD": "a cherry-pick is in progress",
    "REVERT_HEAD": "a revert is in progress",
    "BISECT_LOG": "a bisect is in progress",
}


@dataclass(frozen=True)
class CommitOutcome:
    committed: bool
    sha: str | None = None
    reason: str = ""  # why no commit was made

    def to_dict(self) -> dict:
        return {"committed": self.committed, "sha": self.sha, "reason": self.reason}


def _repo(root: Path):
    import git  # GitPython: imported only when a commit is wanted

    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def head_sha(root: Path) -> str | None:
    """HEAD's commit, or None (no repository, or no commit yet)."""
    repo = _repo(root)
    if repo is None:
        return None
    try:
        return repo.git.rev_parse("HEAD")
    except Exception:  # no commit yet (an unborn branch)
        return None
    finally:
        repo.close()


def why_not(root: Path) -> str:
    """The reason a grade commit cannot be made here, or '' when it can."""

    repo = _repo(root)
    if repo is None:
        return "not a git repository"
    try:
        return _why_not(repo)
    finally:
        repo.close()


def _why_not(repo) -> str:
    import git

    if repo.bare:
        return "the repository is bare"
    if repo.head.is_detached:
        return "HEAD is detached (check out a branch to record grades)"
    git_dir = Path(repo.git_dir)
    for name, reason in _IN_PROGRESS.items():
        if (git_dir / name).exists():
            return reason
    try:
        repo.git.var("GIT_COMMITTER_IDENT")
        repo.git.var("GIT_AUTHOR_IDENT")
    except git.GitCommandError:
        return "git has no identity (set git config user.name and user.email)"
    return ""


LOCKED = ("the git index is locked (.git/index.lock): another git command is running, or "
          "one was interrupted; remove .git/index.lock if none is running")
STALE_LOCK_S = 5.0  # a commit holds the lock for milliseconds; one this old was left behind


def commit_paths(root: Path, paths: list[Path], message: str, retries: int = 20) -> CommitOutcome:
    """Commit the current contents of `paths` (and only those) with `message`."""
    reason = why_not(root)
    if reason:
        return CommitOutcome(False, reason=reason)
    repo = _repo(root)
    work = Path(repo.working_tree_dir).resolve()
    rel = [str(p.resolve().relative_to(work)) for p in paths if p.exists()]
    try:
        return _commit(repo, rel, message, retries)
    finally:
        repo.close()  # GitPython keeps `git cat-file` helpers alive otherwise


def _commit(repo, rel: list[str], message: str, retries: int) -> CommitOutcome:
    import git

    for attempt in range(retries):
        try:
            repo.git.add("--all", "--", *rel)
            if not repo.git.status("--porcelain", "--", *rel).strip():
                return CommitOutcome(False, reason="nothing changed")
            # --only: commit these paths as they are now, ignoring whatever else is staged;
            # --no-verify: a learner's hooks must not block or recurse into an automatic commit
            repo.git.commit("--only", "--no-verify", "-m", message, "--", *rel)
            return CommitOutcome(True, sha=repo.git.rev_parse("HEAD"))
        except git.GitCommandError as exc:
            text = str(exc.stderr or exc)
            if "index.lock" in text:
                if attempt < retries - 1 and not _stale_lock(repo):
                    time.sleep(0.1 + 0.05 * attempt)  # another grade is committing right now
                    continue
                return CommitOutcome(False, reason=LOCKED)
            if "ignored by one of your .gitignore" in text:
                return CommitOutcome(False, reason="the solution folder is git-ignored")
            return CommitOutcome(False, reason=f"git commit failed: {_last_line(text)}")
    return CommitOutcome(False, reason=LOCKED)


def _stale_lock(repo) -> bool:
    try:
        age = time.time() - (Path(repo.git_dir) / "index.lock").stat().st_mtime
    except FileNotFoundError:
        return False
    return age > STALE_LOCK_S


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"

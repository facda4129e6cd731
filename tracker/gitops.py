"""Commit a grade: exactly the day's solution folder and progress.db, nothing else.

A grade never fails because of git: when a commit is not possible or not safe (no
repository, detached HEAD, merge/rebase in progress, no identity) it is skipped with
the reason, and the learner's other changes, staged or not, are never committed.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
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
            if repo.git.ls_files("--unmerged", "--", "*progress.db").strip():
                reason += (" and progress.db is conflicted: `mltrack doctor --fix` merges "
                           "both sides' records")
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


# ---- progress.db's merge and diff drivers -----------------------------------------------

ATTRIBUTES = "progress.db merge=mltrack diff=mltrack"


def driver_config() -> dict[str, str]:
    """git config that makes `git merge/rebase/pull` union two progress.db files and
    `git diff/log -p` print them as text (see tracker.store.merge)."""
    run = f"{shlex.quote(sys.executable)} -m tracker.store.merge"
    return {
        "merge.mltrack.name": "mltrack: the union of two progress.db records",
        "merge.mltrack.driver": f"{run} merge %O %A %B",
        "diff.mltrack.textconv": f"{run} textconv",
    }


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          timeout=30)


def drivers_missing(root: Path) -> list[str]:
    """What of the drivers' set-up is missing or stale in the repository around `root`
    (empty when all is in place, or when `root` is not in a git work tree)."""
    missing = _config_missing(root)
    if missing is None:
        return []
    if ATTRIBUTES not in _attributes(root).splitlines():
        missing.append(f"{root / '.gitattributes'}: {ATTRIBUTES}")
    return missing


def _config_missing(root: Path) -> list[str] | None:
    """The driver keys missing or stale in git config; None outside a repository."""
    try:
        found = _git(root, "config", "--local", "--get-regexp", r"^(merge|diff)\.mltrack\.")
    except (OSError, subprocess.SubprocessError):
        return None
    if found.returncode not in (0, 1):  # 1: no such keys; anything else: not a repository
        return None
    have = dict(line.split(" ", 1) for line in found.stdout.splitlines() if " " in line)
    return [f"git config {key}" for key, value in driver_config().items()
            if have.get(key) != value]


def _attributes(root: Path) -> str:
    try:
        return (root / ".gitattributes").read_text(encoding="utf-8")
    except OSError:
        return ""


def install_config(root: Path) -> bool:
    """Set the drivers in the repository's local config (not versioned: each clone needs
    it); True if anything changed. Never raises: a grade must not fail for this."""
    try:
        if not _config_missing(root):
            return False
        changed = False
        for key, value in driver_config().items():
            changed |= _git(root, "config", "--local", key, value).returncode == 0
        return changed
    except (OSError, subprocess.SubprocessError):
        return False


def install_attributes(root: Path) -> Path | None:
    """Add the drivers to `root`/.gitattributes (versioned: it travels to every clone);
    the file when it was changed, else None."""
    text = _attributes(root)
    if ATTRIBUTES in text.splitlines():
        return None
    path = root / ".gitattributes"
    try:
        if text and not text.endswith("\n"):
            text += "\n"
        path.write_text(text + ATTRIBUTES + "\n", encoding="utf-8")
    except OSError:
        return None
    return path


def conflicted(root: Path, path: Path) -> bool:
    """Whether a merge, rebase or pull left `path` unmerged in the index."""
    try:
        found = _git(root, "ls-files", "--unmerged", "--", str(path))
    except (OSError, subprocess.SubprocessError):
        return False
    return found.returncode == 0 and bool(found.stdout.strip())


def stage_to(root: Path, path: Path, stage: int, dest: Path) -> None:
    """Write one side of a conflict (2: ours, 3: theirs) of `path` to `dest`."""
    rel = path.resolve().relative_to(Path(_git(root, "rev-parse", "--show-toplevel")
                                          .stdout.strip()).resolve())
    blob = subprocess.run(["git", "-C", str(root), "show", f":{stage}:{rel.as_posix()}"],
                          capture_output=True, check=True, timeout=60).stdout
    dest.write_bytes(blob)


def mark_resolved(root: Path, path: Path) -> None:
    _git(root, "add", "--", str(path))

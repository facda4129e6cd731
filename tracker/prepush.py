"""An optional git pre-push hook that grades what a push is about to publish.

`install(root)` writes `.git/hooks/pre-push` (wherever `core.hooksPath` puts hooks); git
runs it with the remote's name and URL and, on stdin, one line per ref being pushed:
`<local ref> <local sha> <remote ref> <remote sha>`. The hook grades the days whose
solutions changed between the remote's commit and the one being pushed — as they are in
the pushed commit, not in the working tree — the way CI will (no progress.db, no commit),
and stops the push when a day fails. `git push --no-verify` skips it once.
"""

from __future__ import annotations

import shutil
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from tracker.ci import UsageError, challenges_touched, changed_paths, git

MARK = "# installed by `mltrack ci install-hook`"
ZERO = "0" * 40


def hooks_dir(root: Path) -> Path:
    path = Path(git(root, "rev-parse", "--git-path", "hooks").strip())
    return path if path.is_absolute() else root / path


def script(python: str | None = None) -> str:
    python = python or sys.executable
    return (
        "#!/bin/sh\n"
        f"{MARK}\n"
        "# Grades the days this push changes, as CI will, and stops the push when one fails.\n"
        "# Skip it once with `git push --no-verify`; remove it with `mltrack ci uninstall-hook`.\n"
        f'exec "{python}" -m tracker.cli ci pre-push "$@"\n'
    )


def install(root: Path, *, force: bool = False) -> tuple[Path, Path | None]:
    """Write the hook; returns its path and where a replaced foreign hook was saved."""
    folder = hooks_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    hook = folder / "pre-push"
    backup = None
    if hook.exists() and MARK not in hook.read_text(encoding="utf-8", errors="replace"):
        if not force:
            raise UsageError(f"{hook} exists and is not mltrack's; --force replaces it "
                             "(it is kept as pre-push.backup)")
        backup = hook.with_name("pre-push.backup")
        shutil.move(hook, backup)
    hook.write_text(script(), encoding="utf-8")
    hook.chmod(0o755)
    return hook, backup


def uninstall(root: Path) -> Path | None:
    """Remove mltrack's hook (never another one); returns its path, or None if absent."""
    hook = hooks_dir(root) / "pre-push"
    if hook.exists() and MARK in hook.read_text(encoding="utf-8", errors="replace"):
        hook.unlink()
        return hook
    return None


@dataclass(frozen=True)
class Update:
    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str


def parse_updates(text: str) -> list[Update]:
    """git's pre-push stdin; deletions (nothing pushed) are left out."""
    updates = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[1] != ZERO:
            updates.append(Update(*parts))
    return updates


def _known(root: Path, sha: str) -> bool:
    try:
        git(root, "cat-file", "-e", f"{sha}^{{commit}}")
        return True
    except UsageError:
        return False


def pushed_challenges(root: Path, update: Update) -> list[str]:
    """Challenges whose files the push changes; for a new branch (or a remote commit this
    clone does not have), every challenge with a solution in the pushed commit."""
    if update.remote_sha != ZERO and _known(root, update.remote_sha):
        return challenges_touched(changed_paths(root, update.remote_sha, update.local_sha))
    listing = git(root, "ls-tree", "-d", "--name-only", update.local_sha, "solutions/")
    return sorted(Path(p).name for p in listing.splitlines())


def export_solution(root: Path, sha: str, challenge: str, dest: Path) -> Path | None:
    """solutions/<challenge>/ as it is in commit `sha`, written under `dest`; None when
    the commit has no such folder."""
    rel = f"solutions/{challenge}"
    if not git(root, "ls-tree", "-d", "--name-only", sha, rel).strip():
        return None
    import subprocess

    data = subprocess.run(["git", "archive", "--format=tar", sha, rel], cwd=root,
                          capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return dest / rel


def scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="mltrack-push-"))

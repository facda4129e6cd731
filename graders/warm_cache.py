"""Caches that mltrack fills once per machine, outside the sandbox, for packages that would
otherwise compile on every grade (numba_cache, yowasp_cache)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path


def base() -> Path:
    """Where mltrack keeps them: $XDG_CACHE_HOME/mltrack, else ~/.cache/mltrack."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mltrack"


def fill_once(folder: Path, code: str, env: dict[str, str], timeout_s: float) -> bool:
    """Run `code` in a fresh Python with `env` added, once per `folder`: concurrent callers
    wait for the first, and a finished fill is marked so that later ones return at once.
    False when it cannot be filled (the grade then runs as it would without the cache)."""
    done = folder / ".complete"
    if done.exists():
        return True
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder.parent / f"{folder.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not done.exists():
                subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                               timeout=timeout_s, check=True, capture_output=True)
                done.touch()
    except (OSError, subprocess.SubprocessError):
        return False
    return True

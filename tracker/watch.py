"""Notice when a solution folder changes (polling: no extra dependency, works everywhere)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

Snapshot = dict[str, tuple[int, int]]


def snapshot(folder: Path) -> Snapshot:
    """(mtime, size) of every file under `folder`, by relative path."""
    state: Snapshot = {}
    for path in folder.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            try:
                st = path.stat()
            except FileNotFoundError:
                continue  # an editor's temporary file, gone already
            state[path.relative_to(folder).as_posix()] = (st.st_mtime_ns, st.st_size)
    return state


def wait_for_change(
    folder: Path, before: Snapshot, *, interval: float = 0.5, settle: float = 0.2,
    stop: Callable[[], bool] = lambda: False,
) -> Snapshot | None:
    """Block until the folder differs from `before` and has been quiet for `settle` seconds
    (editors write in several steps); returns the new snapshot, or None once `stop()`."""
    while not stop():
        time.sleep(interval)
        now = snapshot(folder)
        if now != before:
            time.sleep(settle)
            return snapshot(folder)
    return None

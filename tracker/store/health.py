"""Is progress.db sound? Every kind of damage is named with its recovery, and a damaged
file is never written to (a grade would otherwise commit over the learner's history).

Plain sqlite3: `mltrack doctor`, the merge driver and the store all use it.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from tracker.store.migrations import LATEST

MAGIC = b"SQLite format 3\x00"

NEWER = "it was written by a newer mltrack (schema v{version}; this one knows v{latest})"
RECOVERY = (
    "nothing was written to it. To recover: `git checkout -- progress.db` restores the last "
    "committed record; or `mltrack doctor --fix` moves it aside and rebuilds what can still "
    "be read"
)


def damage(path: Path) -> str | None:
    """What is wrong with the database at `path`, in a few words; None when it is sound or
    does not exist (a missing file is a fresh start; an empty one is not)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(100)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"it cannot be read ({exc.strerror})"
    if size == 0:
        return "it is empty (0 bytes)"
    if not head.startswith(MAGIC):
        return "it is not an SQLite database (its header is wrong)"
    if len(head) < 100:
        return f"it is truncated ({size} bytes)"
    sides = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
    existed = [side.exists() for side in sides]
    problem = _check(path, size)
    if problem:  # a read-only look at a WAL database leaves empty side files: not ours to add
        for side, was in zip(sides, existed, strict=True):
            if not was and side.exists() and (side.name.endswith("-shm")
                                              or side.stat().st_size == 0):
                side.unlink(missing_ok=True)
    return problem


def _check(path: Path, size: int) -> str | None:
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=15)) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            found = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return None  # in use, not damaged: the store waits for the lock as usual
        return _named(str(exc), size)
    except sqlite3.DatabaseError as exc:
        return _named(str(exc), size)
    if found != ["ok"]:
        return "pages are damaged (" + "; ".join(line.split("\n")[-1] for line in found) + ")"
    if version > LATEST:
        return NEWER.format(version=version, latest=LATEST)
    return None


def _named(text: str, size: int) -> str:
    if "not a database" in text:
        return "it is not a database (its header is damaged)"
    if "malformed" in text:
        return f"it is damaged or truncated ({size} bytes; SQLite: {text})"
    return f"SQLite cannot read it ({text})"


def damaged_message(path: Path, what: str) -> str:
    if what.startswith("it was written by a newer mltrack"):
        return (f"{path}: {what}: upgrade mltrack (`pip install -c constraints.txt -e .` in "
                "an up-to-date course); nothing was written to it.")
    return f"{path} is damaged: {what}; {RECOVERY}."

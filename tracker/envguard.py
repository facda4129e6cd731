"""What one day's solution must not change before the next day of a CI run is graded.

Every grade is a fresh Python process, so a solution that plants code where Python runs it
at start-up (a `*.pth` file or `sitecustomize`/`usercustomize` in a site directory or on
the grading child's path) or that edits mltrack's own modules (loaded lazily by the parent,
or by the next child) could fake the verdicts of the days graded after it. CI grading takes
this fingerprint before the first day and compares it before every other one.

Not covered: compiled `__pycache__` files (the parent writes those itself) and the
grading helpers' data, which the course manifest already covers.
"""

from __future__ import annotations

import site
from pathlib import Path

import graders
import hardware
import tracker
from tracker import manifest

_STARTUP = ("*.pth", "sitecustomize*", "usercustomize*")
_PACKAGES = (tracker, graders, hardware)


def _site_dirs() -> list[Path]:
    dirs = [Path(p) for p in site.getsitepackages()]
    user = site.getusersitepackages()
    if user:
        dirs.append(Path(user))
    # the grading child runs with mltrack's root first on PYTHONPATH (graders.runner)
    dirs.append(Path(graders.__file__).resolve().parent.parent)
    return dirs


def _digest(path: Path) -> str:
    try:
        return manifest.digest(path)
    except OSError as exc:
        return f"unreadable: {exc.strerror}"


def fingerprint() -> dict[str, str]:
    """{path: sha256} of the start-up files and of mltrack's own source files."""
    found: dict[str, str] = {}
    for folder in _site_dirs():
        for pattern in _STARTUP:
            for path in sorted(folder.glob(pattern)) if folder.is_dir() else ():
                if path.is_file():
                    found[str(path)] = _digest(path)
    for package in _PACKAGES:
        root = Path(package.__file__).resolve().parent
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                found[str(path)] = _digest(path)
    return found


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The paths added, removed or modified between two fingerprints."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))

"""The course manifest: sha256 digests of every file a verdict depends on.

`challenges/MANIFEST.sha256` covers the challenge folders (graders, data, conftest,
challenge.toml, starters, specs, references), the plan files and — when the workspace ships
them — the grading helpers in `graders/` and the hardware-class profiles that targets are
scaled by. The format is `sha256sum`'s (`<hex>  <path>`, paths relative to the workspace
root, sorted), so `sha256sum -c challenges/MANIFEST.sha256` checks it without mltrack.

`mltrack verify` compares the workspace with it (a changed, missing or added file is
reported); CI grading does the same before every day it grades; `mltrack verify --update`
regenerates it after a course author changes a challenge.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracker.errors import ContractError

MANIFEST = Path("challenges") / "MANIFEST.sha256"
COVERED = ("challenges", "graders", "hardware/classes")  # folders, relative to the root
_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")


def _ignored(rel: str) -> bool:
    parts = rel.split("/")
    return "__pycache__" in parts or rel.endswith(".pyc") or rel == MANIFEST.as_posix()


def course_files(root: Path, prefixes: Iterable[str] | None = None) -> list[str]:
    """Every covered file under `root` (relative POSIX paths), optionally only those under
    `prefixes` (e.g. `challenges/day001/`)."""
    found = []
    for top in COVERED:
        folder = root / top
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if path.is_file() or path.is_symlink():
                rel = path.relative_to(root).as_posix()
                if not _ignored(rel):
                    found.append(rel)
    return sorted(f for f in found if _under(f, prefixes))


def _under(rel: str, prefixes: Iterable[str] | None) -> bool:
    return prefixes is None or any(rel.startswith(p) for p in prefixes)


def digest(path: Path) -> str:
    """sha256 of the file; a symlink is hashed as its target text (never followed)."""
    if path.is_symlink():
        return hashlib.sha256(b"symlink:" + str(path.readlink()).encode()).hexdigest()
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build(root: Path) -> dict[str, str]:
    return {rel: digest(root / rel) for rel in course_files(root)}


def render(entries: dict[str, str]) -> str:
    return "".join(f"{entries[rel]}  {rel}\n" for rel in sorted(entries))


def write(root: Path, path: Path | None = None) -> tuple[Path, int]:
    """Regenerate the manifest (course authors); returns its path and number of files."""
    target = path or root / MANIFEST
    entries = build(root)
    target.write_text(render(entries), encoding="utf-8")
    return target, len(entries)


def read(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError(f"{path}: no manifest (course authors: mltrack verify --update)"
                            ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"{path}: cannot be read ({exc})") from None
    entries = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise ContractError(f"{path}:{number}: not a `<sha256>  <path>` line")
        entries[match.group(2)] = match.group(1)
    return entries


@dataclass
class Verification:
    """How the workspace's course files compare with the manifest."""

    manifest: str
    checked: int
    modified: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.modified or self.missing or self.added)

    def problems(self) -> list[str]:
        """One line per file: `challenges/day001/test_day001.py (modified)`."""
        return ([f"{p} (modified)" for p in self.modified] + [f"{p} (missing)" for p in
                self.missing] + [f"{p} (added)" for p in self.added])

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "manifest": self.manifest, "checked": self.checked,
                "modified": self.modified, "missing": self.missing, "added": self.added}


def verify(root: Path, manifest: Path | None = None, prefixes: Iterable[str] | None = None,
           entries: dict[str, str] | None = None) -> Verification:
    """Compare the covered files (under `prefixes`, if given) with the manifest, or with
    `entries` already read from it (so that a manifest edited meanwhile changes nothing)."""
    path = manifest or root / MANIFEST
    prefixes = list(prefixes) if prefixes is not None else None
    entries = read(path) if entries is None else entries
    expected = {rel: h for rel, h in entries.items() if _under(rel, prefixes)}
    present = set(course_files(root, prefixes))
    result = Verification(_shown(path, root), checked=len(expected))
    for rel in sorted(expected):
        if rel not in present:
            result.missing.append(rel)
        elif digest(root / rel) != expected[rel]:
            result.modified.append(rel)
    result.added = sorted(present - expected.keys())
    return result


def day_prefixes(challenge: str) -> list[str]:
    """What one day's verdict depends on: its folder, the plans, the grading helpers."""
    return [f"challenges/{challenge}/", "challenges/plans/", "graders/", "hardware/classes/"]


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)

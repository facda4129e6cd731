"""Keep progress.db small: it travels in git and is rewritten by every graded commit.

The database holds what the record needs: every check's verdict, a short message and an
excerpt of the output of the first few failures (head and tail: the assertion is at the
end). The full outputs go, gzip-compressed and bounded, to .mltrack/outputs/ (git-ignored,
this machine only), where `Store.cases` finds them again.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Sequence
from pathlib import Path

MESSAGE_MAX = 240  # characters of a check's one-line message
EXCERPTS = (800, 240, 240)  # characters of output kept for the first failures, in order
FULL_MAX = 64 * 1024  # characters of one check's output kept locally
KEPT_FILES = 1000  # attempts whose full outputs are kept locally; older ones are pruned
SAMPLES_MAX = 500  # raw benchmark samples kept per list
CUT = "characters cut"


def clip(text: str, limit: int) -> str:
    """`text` within `limit` characters: its head and tail around a note of what was cut
    (a short limit keeps the head only)."""
    if len(text) <= limit:
        return text
    def note(cut: int) -> str:
        return f"\n… {cut} {CUT} (full output: .mltrack/outputs/) …\n"

    room = limit - len(note(len(text))) - 1  # the count is no longer than len(text)'s
    if room < 120:
        return text[:limit - 1] + "…"
    head = room // 4
    return text[:head] + note(len(text) - room) + text[len(text) - (room - head):]


def excerpts(details: Sequence[str]) -> list[str]:
    """The output stored in the database for each check (same order): an excerpt for the
    first few that have any, nothing for the rest."""
    budget = iter(EXCERPTS)
    kept = []
    for text in details:
        limit = next(budget, 0) if text else 0
        kept.append(clip(text, limit) if limit else "")
    return kept


def save(folder: Path, uid: str, pairs: Sequence[tuple[str, str]]) -> None:
    """Keep the full outputs (nodeid, details) of attempt `uid` locally, compressed;
    never raises (the record is complete without them)."""
    if not pairs:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        data = json.dumps([[n, d[:FULL_MAX]] for n, d in pairs]).encode()
        part = folder / f".{uid}.{os.getpid()}.part"
        part.write_bytes(gzip.compress(data, compresslevel=6))
        os.replace(part, folder / f"{uid}.json.gz")
        _prune(folder)
    except OSError:
        pass


def load(folder: Path, uid: str) -> list[tuple[str, str]]:
    try:
        data = json.loads(gzip.decompress((folder / f"{uid}.json.gz").read_bytes()))
    except (OSError, ValueError, EOFError):
        return []
    return [(str(n), str(d)) for n, d in data]


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("*.json.gz"), key=lambda p: p.stat().st_mtime)
    for old in files[:-KEPT_FILES]:
        old.unlink(missing_ok=True)


def samples(raw: dict[str, list[float]]) -> dict[str, list[float]]:
    """Raw benchmark samples to 4 significant digits, at most SAMPLES_MAX per list (evenly
    spaced): enough to redraw a distribution, a fraction of the bytes."""
    kept = {}
    for name, values in raw.items():
        values = list(values)
        if len(values) > SAMPLES_MAX:
            step = len(values) / SAMPLES_MAX
            values = [values[int(i * step)] for i in range(SAMPLES_MAX)]
        kept[name] = [float(f"{float(v):.4g}") for v in values]
    return kept

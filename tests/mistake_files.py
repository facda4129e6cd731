"""Typical mistakes of the course, as the self-check reads them.

A mistake is either a complete solution (`<name>.py`) or, when it is the reference with a
few lines changed, a unified diff against the reference (`<name>.diff`): the diff shows the
mistake and nothing else, and stops applying — loudly — when the reference changes under
it. Both start with `# mistake: …` and `# expect: <substring of the grader's message>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class Mistake:
    name: str
    mistake: str  # what is wrong, in a phrase
    expect: str  # a substring of the message the grader must give
    source: str  # the complete solution with the mistake


def read(path: Path, reference: Path) -> Mistake:
    text = path.read_text(encoding="utf-8")
    header = dict(line[2:].split(":", 1) for line in text.splitlines()[:5]
                  if line.startswith("# ") and ":" in line)
    missing = {"mistake", "expect"} - header.keys()
    if missing:
        raise ValueError(f"{path}: header lacks {', '.join(sorted(missing))}")
    if path.suffix == ".diff":
        source = apply(reference.read_text(encoding="utf-8"), text, path)
    else:
        source = text
    return Mistake(path.stem, header["mistake"].strip(), header["expect"].strip(), source)


def apply(original: str, diff: str, where: Path) -> str:
    """Apply a unified diff exactly: every context and removed line must match."""
    old = original.splitlines(keepends=True)
    out: list[str] = []
    pos = 0  # next line of `old` to copy
    lines = diff.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        m = _HUNK.match(lines[i])
        i += 1
        if not m:
            continue
        start = int(m.group(1)) - 1 if int(m.group(2) or 1) else int(m.group(1))
        out.extend(old[pos:start])
        pos = start
        while i < len(lines) and not lines[i].startswith("@@"):
            tag, body = lines[i][:1], lines[i][1:]
            if tag in (" ", "-"):
                if pos >= len(old) or old[pos].rstrip("\n") != body.rstrip("\n"):
                    raise ValueError(f"{where}: does not apply at reference line {pos + 1}; "
                                     "regenerate it against the current reference")
                pos += 1
                if tag == " ":
                    out.append(old[pos - 1])
            elif tag == "+":
                out.append(body if body.endswith("\n") else body + "\n")
            i += 1
    out.extend(old[pos:])
    return "".join(out)


def make(reference: str, mistaken: str, mistake: str, expect: str) -> str:
    """A `.diff` mistake file for `mistaken` (used to write new ones)."""
    import difflib

    diff = difflib.unified_diff(reference.splitlines(keepends=True),
                                mistaken.splitlines(keepends=True),
                                "reference/solution.py", "mistake", n=2)
    return f"# mistake: {mistake}\n# expect: {expect}\n" + "".join(diff)

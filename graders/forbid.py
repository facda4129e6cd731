"""Enforce what a spec forbids (e.g. "no numpy", "do not call numpy.linalg.qr").

Two complementary checks:
- `static_uses(folder)` reads the solution's source and resolves import aliases, so
  `import numpy as np; np.linalg.qr(...)` and `from numpy.linalg import qr` are both seen
  as `numpy.linalg.qr` without running anything;
- `calls(...)` patches the forbidden functions while a check runs the learner's code, so
  a call through any alias made after import raises ForbiddenCall.
A determined learner can hide a call (getattr with a built string); these checks catch
honest mistakes, which is what a grader is for.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class ForbiddenCall(AssertionError):
    """Raised when the learner's code calls a function the spec forbids."""


def _py_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def static_uses(folder: Path) -> set[str]:
    """Every dotted name the solution imports or references, aliases resolved."""
    names: set[str] = set()
    for path in _py_files(folder):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError:
            continue  # the import itself reports syntax errors
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    names.add(a.name)
                    top = a.name.split(".")[0]
                    aliases[a.asname or top] = a.name if a.asname else top
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    names.add(full)
                    aliases[a.asname or a.name] = full
        for node in ast.walk(tree):
            dotted = _dotted(node)
            if dotted:
                head, _, rest = dotted.partition(".")
                if head in aliases:
                    names.add(aliases[head] + (f".{rest}" if rest else ""))
    return names


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def violations(folder: Path, banned: list[str]) -> list[str]:
    """The banned names (modules or functions, dotted) the solution uses, sorted."""
    used = static_uses(folder)
    return sorted({b for b in banned for u in used if u == b or u.startswith(b + ".")})


def assert_not_used(folder: Path, banned: list[str], why: str = "") -> None:
    """Fail with a pointed message if the solution imports or references a banned name."""
    found = violations(folder, banned)
    if found:
        reason = f" ({why})" if why else ""
        raise ForbiddenCall(f"the spec forbids {', '.join(found)}{reason}")


@contextmanager
def calls(*dotted: str) -> Iterator[None]:
    """While active, calling any of the named functions raises ForbiddenCall."""
    saved = []
    try:
        for name in dotted:
            module_name, _, attr = name.rpartition(".")
            owner = importlib.import_module(module_name)
            saved.append((owner, attr, getattr(owner, attr)))
            setattr(owner, attr, _refuse(name))
        yield
    finally:
        for owner, attr, original in reversed(saved):
            setattr(owner, attr, original)


def _refuse(name: str):
    def refuse(*_args, **_kwargs):
        raise ForbiddenCall(f"the spec forbids calling {name}: write it yourself")

    return refuse

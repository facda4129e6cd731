"""Tamper evidence for a grade: signed report lines, a guard over the grader's modules and
a digest of the grader's scratch copy.

The learner's code runs in the grading child, in the same process as pytest and the
plugin, so nothing here is absolute: a solution written to defeat this code, knowing it,
can. What it does is turn the easy ways of faking a pass into an `error` verdict that
names what was done (SECURITY.md lists what is and is not covered):

- Report lines. Every event the plugin writes carries a sequence number and an HMAC under
  a key the parent hands over in a file that the plugin reads and deletes before any
  learner code runs. A line the solution writes into the report file has no valid MAC, a
  replayed or dropped line breaks the sequence: the parent turns either into a `tampered`
  event.
- Module guard. After collection (before the learner's module is imported) the plugin
  snapshots the globals of the test modules, of `graders.*`, of pytest's public API and
  of the oracle libraries already loaded (numpy, scipy, torch, sklearn, math, builtins),
  including the code and defaults of their functions. After the import and after every
  check it compares; a replaced, removed or (in a test module) added name is tampering.
- Grader files. The parent hashes the scratch copy of the grader before the child starts
  and after it ends; a changed, added or removed file (say, expected outputs in data/
  overwritten by the solution) is tampering.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import secrets
import sys
import types
from pathlib import Path
from typing import Any

KEY_VAR = "MLTRACK_REPORT_KEY_FILE"
_MAC_CHARS = 32
_MAC_SUFFIX = len(', "mac": "') + _MAC_CHARS + len('"}')


# ---- signed report lines ------------------------------------------------------------------


def write_key(scratch: Path) -> tuple[bytes, Path]:
    """A fresh key in a file only this user can read; the child's plugin deletes it."""
    key = secrets.token_bytes(32)
    path = scratch / "report.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.hex().encode())
    return key, path


def take_key() -> bytes | None:
    """In the child: read the key file named in the environment and delete it (and the
    variable), so code that runs later in this process or its children cannot read it."""
    path = os.environ.pop(KEY_VAR, None)
    if not path:
        return None
    try:
        key = bytes.fromhex(Path(path).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        key = None
    try:
        os.unlink(path)
    except OSError:
        pass
    return key


def _mac(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()[:_MAC_CHARS]


class Signer:
    """Serialises events as JSON lines; with a key, each line carries `seq` and `mac`."""

    def __init__(self, key: bytes | None):
        self._key = key
        self._seq = itertools.count()

    def line(self, event: dict[str, Any]) -> str:
        if self._key is None:
            return json.dumps(event, default=str) + "\n"
        payload = json.dumps({**event, "seq": next(self._seq)}, default=str)
        return f'{payload[:-1]}, "mac": "{_mac(self._key, payload)}"}}\n'


class Verifier:
    """The parent's side: parse a report line, check its MAC and sequence number."""

    def __init__(self, key: bytes | None):
        self.key = key
        self.expected = 0
        self.tampered = False

    def parse(self, raw: bytes) -> dict[str, Any] | None:
        """The event on this line; None for a garbled line (a child dying mid-write); a
        `tampered` event (once) for a line the grader did not write."""
        try:
            text = raw.decode("utf-8")
            event = json.loads(text)
        except ValueError:
            return None
        if not isinstance(event, dict) or "event" not in event:
            return None
        if self.key is None:
            return event
        payload = text[:-_MAC_SUFFIX] + "}"
        mac = event.pop("mac", None)
        seq = event.pop("seq", None)
        if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(self.key, payload)):
            return self._flag("the grading report has a line the grader did not write "
                              "(did the solution write to the report file?)")
        if seq != self.expected:
            return self._flag("the grading report's lines were replayed, reordered or removed")
        self.expected += 1
        return event

    def _flag(self, why: str) -> dict[str, Any] | None:
        if self.tampered:
            return None
        self.tampered = True
        return {"event": "tampered", "message": f"tampering detected: {why}"}


# ---- the grader's files -------------------------------------------------------------------


def tree_digest(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under `folder`."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            found[path.relative_to(folder).as_posix()] = hashlib.sha256(
                path.read_bytes()).hexdigest()
    return found


def grader_changes(folder: Path, before: dict[str, str]) -> list[dict[str, Any]]:
    """A `tampered` event when the files under `folder` differ from `before`, else []."""
    after = tree_digest(folder)
    changed = sorted(p for p in before.keys() & after.keys() if before[p] != after[p])
    added, removed = sorted(after.keys() - before.keys()), sorted(before.keys() - after.keys())
    parts = [f"{what} {', '.join(paths)}" for what, paths in
             (("changed", changed), ("added", added), ("removed", removed)) if paths]
    if not parts:
        return []
    return [{"event": "tampered",
             "message": "tampering detected: the grader's files were modified while grading "
                        f"({'; '.join(parts)})"}]


# ---- the module guard ---------------------------------------------------------------------

# Oracles graders compare against; watched when already loaded.
LIBRARIES = (
    "builtins", "math", "cmath", "statistics",
    "numpy", "numpy.linalg", "numpy.testing", "numpy.random", "numpy.fft",
    "scipy", "scipy.linalg", "scipy.special", "scipy.stats", "scipy.optimize", "scipy.sparse",
    "torch", "torch.nn.functional", "torch.testing", "torch.linalg", "sklearn.metrics",
    "onnxruntime",
)
# The test framework: pytest and pluggy, their functions and their classes (a patched
# TestReport or call_and_report could turn any failure into a pass).
FRAMEWORK = ("pytest", "_pytest", "pluggy")
# Globals pytest itself rebinds for every test (the assertion rewriter's hooks).
REBOUND_BY_PYTEST = {"_pytest.assertion.util"}


def _function_parts(value: Any) -> tuple | None:
    if isinstance(value, types.FunctionType):
        kw = value.__kwdefaults__
        return (value.__code__, value.__defaults__,
                tuple(kw.items()) if kw is not None else None)
    return None


class _Watched:
    """One module's namespace at baseline (strong references, so no id is ever reused)."""

    def __init__(self, name: str, module: types.ModuleType, *, globals_: bool = True,
                 classes: bool = False, additions: bool = False, every_check: bool = False):
        self.name, self.module, self.additions = name, module, additions
        self.every_check = every_check  # else only after the import and at the end
        namespace = dict(vars(module))
        self.values = namespace if globals_ else {}
        self.functions = {k: p for k, v in self.values.items()
                          if (p := _function_parts(v)) is not None}
        self.classes = {k: (v, dict(vars(v))) for k, v in namespace.items()
                        if classes and isinstance(v, type) and v.__module__ == module.__name__}

    def changes(self) -> list[str]:
        where = self.name
        now = vars(self.module)
        found = []
        for key, old in self.values.items():
            if key not in now:
                found.append(f"{where}.{key} was removed")
                continue
            new = now[key]
            if new is not old and _own_wrapper(new, old, self.module):
                continue
            if new is not old:
                found.append(f"{where}.{key} was replaced")
            elif key in self.functions and not _same_parts(_function_parts(new),
                                                           self.functions[key]):
                found.append(f"{where}.{key} had its code or defaults changed")
        if self.additions:
            found += [f"{where}.{key} was added" for key in now.keys() - self.values.keys()]
        for cls, (kind, old_dict) in self.classes.items():
            new_dict = vars(kind)
            for key, old in old_dict.items():
                if key not in new_dict or new_dict[key] is not old:
                    found.append(f"{where}.{cls}.{key} was replaced")
        return found


def _own_wrapper(new: Any, old: Any, module: types.ModuleType) -> bool:
    """A library wrapping its own function on a lazy import (torch._dynamo wraps
    torch.manual_seed on the first optimiser step): the wrapper's `__wrapped__` chain reaches
    the original and its code lives in the library's own installed files, not the solution's."""
    top = sys.modules.get(module.__name__.split(".")[0])
    home = os.path.dirname(getattr(top, "__file__", None) or "") if top else ""
    code = getattr(new, "__code__", None)
    if not home or code is None or not code.co_filename.startswith(home + os.sep):
        return False
    seen, inner = 0, new
    while inner is not None and seen < 10:
        inner = getattr(inner, "__wrapped__", None)
        if inner is old:
            return True
        seen += 1
    return False


def _same_parts(a: tuple | None, b: tuple | None) -> bool:
    if a is None or b is None:
        return a is b
    return all(x is y for x, y in zip(a[:2], b[:2], strict=True)) and _same_items(a[2], b[2])


def _same_items(a: tuple | None, b: tuple | None) -> bool:
    if a is None or b is None:
        return a is b
    if len(a) != len(b):
        return False
    return all(k1 == k2 and v1 is v2 for (k1, v1), (k2, v2) in zip(a, b, strict=True))


class ModuleGuard:
    """Snapshot the modules a verdict depends on; report what changed since."""

    def __init__(self, grader_dir: Path, plugins: Any = None):
        self.grader_dirs = tuple({str(grader_dir) + os.sep, str(grader_dir.resolve()) + os.sep})
        self.watched: dict[str, _Watched] = {}
        self.modules: dict[str, types.ModuleType] = {}
        self._seen: set[str] = set()  # module names looked at once (thousands with torch)
        self._reported = False
        self._plugins = plugins  # pytest's plugin manager: registering a plugin is tampering
        self._known_plugins: list[Any] = []

    def _watch(self, name: str, module: types.ModuleType) -> _Watched | None:
        top = name.split(".", 1)[0]
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.startswith(self.grader_dirs):  # tests, conftest
            return _Watched(name, module, classes=True, additions=True, every_check=True)
        if top == "graders":
            return _Watched(name, module, classes=True, every_check=True)
        if top in FRAMEWORK:
            return _Watched(name, module, globals_=name not in REBOUND_BY_PYTEST, classes=True)
        if name in LIBRARIES:
            return _Watched(name, module)
        return None

    def baseline(self) -> None:
        self._add_new()
        if self._plugins is not None:
            self._known_plugins = list(self._plugins.get_plugins())

    def _add_new(self) -> None:
        for name in sys.modules.keys() - self._seen:
            self._seen.add(name)
            module = sys.modules.get(name)
            if isinstance(module, types.ModuleType):
                watched = self._watch(name, module)
                if watched is not None:
                    self.watched[name] = watched
                    self.modules[name] = module

    def changes(self, full: bool = True) -> list[str]:
        """What changed since the baseline. After every check only the grader's own modules
        and graders.* are compared (cheap); `full` adds pytest, pluggy and the libraries
        (about 10 ms with torch loaded), done after the import and at the end of the run."""
        found = []
        if self._plugins is not None:
            known = {id(p) for p in self._known_plugins}
            for plugin in self._plugins.get_plugins():
                if id(plugin) not in known:
                    name = self._plugins.get_name(plugin) or type(plugin).__name__
                    found.append(f"a pytest plugin was registered ({name})")
        for name, module in self.modules.items():
            if sys.modules.get(name) is not module:
                found.append(f"sys.modules[{name!r}] was replaced")
        for watched in self.watched.values():
            if full or watched.every_check:
                found += watched.changes()
        self._add_new()  # graders.* modules a check imported later are watched from now on
        return found

    def check(self, when: str, full: bool = True) -> str:
        """A message naming what changed (at most a few names), or ''."""
        found = self.changes(full)
        if not found:
            return ""
        more = f" and {len(found) - 3} more" if len(found) > 3 else ""
        return f"tampering detected {when}: {'; '.join(found[:3])}{more}"

    def first_report(self) -> bool:
        """True the first time it is asked: the `tampered` event is emitted once."""
        first, self._reported = not self._reported, True
        return first


def shadowing(folder: Path, own: str) -> list[str]:
    """Files in the solution folder that would hide an installed or loaded module once the
    folder is on sys.path (a `numpy.py` faking the oracle a check imports later)."""
    import importlib.util

    found = []
    for entry in sorted(folder.iterdir()):
        if entry.suffix == ".py" and entry.is_file():
            name = entry.stem
        elif entry.is_dir() and (entry / "__init__.py").is_file():
            name = entry.name
        else:
            continue
        if name == own or not name.isidentifier():
            continue
        try:
            installed = name in sys.modules or importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            installed = False
        if installed:
            found.append(entry.name)
    return found

"""The challenge contract: one folder per challenge, validated on load.

    challenges/<id>/
      challenge.toml   metadata (fields below)
      spec.md          the task, the API, tolerances, data, targets
      starter.py       the API with TODOs; `mltrack start` copies it to solutions/<id>/<module>.py
      test_*.py        the pytest grader (gets the learner's module from the `solution` fixture)
      reference/       the reference solution (<module>.py), shown only after a pass
      data/            optional files the grader reads
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tracker.errors import ContractError
from tracker.targets import TargetSpec, parse_targets
from tracker.tomlfile import Fields, read_toml

ALLOWED_ENTRIES = {"challenge.toml", "spec.md", "starter.py", "conftest.py", "reference", "data"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Challenge:
    id: str
    title: str
    path: Path
    tags: tuple[str, ...]
    hints: tuple[str, ...]
    api: tuple[str, ...]  # names the learner's module must define
    module: str = "solution"
    timeout_s: float = 60.0
    check_timeout_s: float = 30.0  # one check's own budget: a loop is reported sooner
    memory_mb: int = 2048
    points: int = 10
    packages: tuple[str, ...] = ()  # import names the grader needs (skipped with reason if absent)
    hardware: tuple[str, ...] = ()  # hardware classes some checks need
    targets: tuple[TargetSpec, ...] = ()  # performance targets (tracker/targets.py)
    slow: bool = False  # grading takes long; a quick local test run may skip it (-m "not slow")

    @property
    def spec_path(self) -> Path:
        return self.path / "spec.md"

    @property
    def starter_path(self) -> Path:
        return self.path / "starter.py"

    @property
    def reference_dir(self) -> Path:
        return self.path / "reference"

    @property
    def solution_file(self) -> str:
        return f"{self.module}.py"

    def grader_files(self) -> list[Path]:
        return sorted(self.path.glob("test_*.py"))

    def spec(self) -> str:
        return self.spec_path.read_text(encoding="utf-8")


def load_challenge(folder: Path) -> Challenge:
    """Read and validate `folder`; any ContractError names the file and field at fault."""
    if not folder.is_dir():
        raise ContractError(f"{folder}: challenge folder is missing")
    meta = folder / "challenge.toml"
    f = Fields(read_toml(meta), meta)
    cid = f.str("id")
    if cid != folder.name:
        raise f.fail("id", f"must equal the folder name '{folder.name}' (got {cid!r})")
    module = f.str("module", "solution")
    if not _IDENT.match(module):
        raise f.fail("module", f"must be a Python module name (got {module!r})")
    api = f.str_list("api")
    for name in api:
        if not _IDENT.match(name):
            raise f.fail("api", f"entry {name!r} is not a Python identifier")
    hints = f.str_list("hints")
    if not hints:
        raise f.fail("hints", "must list at least one hint")
    requires = f.table("requires")
    packages = requires.str_list("packages", [])
    hardware = requires.str_list("hardware", [])
    requires.done()
    targets = parse_targets(f.tables("targets"))
    challenge = Challenge(
        id=cid,
        title=f.str("title"),
        path=folder,
        tags=tuple(f.str_list("tags", [])),
        hints=tuple(hints),
        api=tuple(api),
        module=module,
        timeout_s=(timeout := f.number("timeout_s", 60.0, positive=True)),
        # half the day's limit unless the day says otherwise: a check rarely needs more
        check_timeout_s=min(f.number("check_timeout_s", timeout / 2, positive=True), timeout),
        memory_mb=f.int("memory_mb", 2048, minimum=64),
        points=f.int("points", 10, minimum=0),
        packages=tuple(packages),
        hardware=tuple(hardware),
        targets=targets,
        slow=f.bool("slow", False),
    )
    f.done()
    _check_files(challenge)
    return challenge


def _check_files(ch: Challenge) -> None:
    for required in (ch.spec_path, ch.starter_path):
        if not required.is_file():
            raise ContractError(f"{required}: file is missing")
    if not ch.grader_files():
        raise ContractError(f"{ch.path}: no grader (test_*.py) found")
    reference = ch.reference_dir / ch.solution_file
    if not reference.is_file():
        raise ContractError(f"{reference}: reference solution is missing")
    for path in [ch.spec_path, ch.starter_path, *ch.grader_files()]:
        try:
            path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ContractError(f"{path}: not UTF-8 (byte {exc.start})") from None


def stray_entries(folder: Path) -> list[str]:
    """Entries in a challenge folder that the contract does not know (for the self-check)."""
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name not in ALLOWED_ENTRIES
        and not (p.name.startswith("test_") and p.suffix == ".py")
        and p.name != "__pycache__"
    )


class Catalog:
    """The challenge library under `root`, loaded lazily and cached per id."""

    def __init__(self, root: Path):
        self.root = root
        self._cache: dict[str, Challenge] = {}

    def ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir() if (p / "challenge.toml").is_file()
        )

    def get(self, cid: str) -> Challenge:
        if cid not in self._cache:
            self._cache[cid] = load_challenge(self.root / cid)
        return self._cache[cid]

    def points(self, cid: str) -> int | None:
        """challenge.toml's `points` without loading the whole challenge (the status sums
        them over every day); None when the file cannot be read."""
        import tomllib

        if cid in self._cache:
            return self._cache[cid].points
        try:
            with (self.root / cid / "challenge.toml").open("rb") as f:
                value = tomllib.load(f).get("points", 10)
        except (OSError, tomllib.TOMLDecodeError):
            return None
        return value if isinstance(value, int) and value >= 0 else None

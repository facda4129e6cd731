"""Hardware classes: data files in hardware/classes/*.toml, matched against detected facts.

A class is what absolute performance targets are keyed by (`x86-cpu`, `rpi5`,
`nvidia-hopper`, `zynq-7000`, ...). A machine matches every class whose `[class.match]`
holds; its own class is the most specific one (highest priority), or the one declared in
.mltrack/hardware.toml. See the comment at the top of classes/cpu.toml for the fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from tracker.errors import ContractError
from tracker.tomlfile import Fields, read_toml

CLASSES_DIR = Path(__file__).resolve().parent / "classes"
KINDS = ("cpu", "gpu", "board", "fpga")
_LIST_KEYS = ("arch", "model", "compatible", "gpu_arch")
_BOOL_KEYS = ("gpu", "fpga")


@dataclass(frozen=True)
class Facts:
    """What detection found, in the terms class rules speak."""

    arch: str = ""
    model: str = ""  # device-tree model
    compatible: tuple[str, ...] = ()
    gpu_archs: tuple[str, ...] = ()
    gpu: bool = False
    fpga: bool = False


@dataclass(frozen=True)
class HardwareClass:
    id: str
    title: str
    kind: str
    priority: int
    features: tuple[str, ...]
    match: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # the file that defines it

    def matches(self, facts: Facts) -> bool:
        if not self.match:
            return False  # declared-only
        m = self.match
        checks = [
            ("arch", lambda v: facts.arch.lower() in {a.lower() for a in v}),
            ("model", lambda v: any(s.lower() in facts.model.lower() for s in v)),
            ("compatible", lambda v: bool(set(v) & set(facts.compatible))),
            ("gpu_arch", lambda v: bool(set(v) & set(facts.gpu_archs))),
            ("gpu", lambda v: facts.gpu == v),
            ("fpga", lambda v: facts.fpga == v),
        ]
        return all(test(m[key]) for key, test in checks if key in m)

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "kind": self.kind,
                "priority": self.priority, "features": list(self.features)}


def load_classes(folder: Path = CLASSES_DIR) -> dict[str, HardwareClass]:
    """Every class defined under `folder`, by id; errors name the file and the field."""
    if folder == CLASSES_DIR:
        return dict(_builtin())
    return _load(folder)


@lru_cache(maxsize=1)
def _builtin() -> tuple[tuple[str, HardwareClass], ...]:
    return tuple(_load(CLASSES_DIR).items())


def _load(folder: Path) -> dict[str, HardwareClass]:
    classes: dict[str, HardwareClass] = {}
    paths = sorted(folder.glob("*.toml"))
    if not paths:
        raise ContractError(f"{folder}: no hardware class files (*.toml)")
    for path in paths:
        f = Fields(read_toml(path), path)
        for entry in f.tables("class", required=True):
            hc = _parse(entry, path)
            if hc.id in classes:
                raise entry.fail("id", f"'{hc.id}' is already defined in {classes[hc.id].source}")
            classes[hc.id] = hc
        f.done()
    return classes


def _parse(f: Fields, path: Path) -> HardwareClass:
    cid = f.str("id")
    kind = f.str("kind")
    if kind not in KINDS:
        raise f.fail("kind", f"must be one of {', '.join(KINDS)} (got {kind!r})")
    match_fields = f.table("match")
    match: dict[str, Any] = {}
    for key in _LIST_KEYS:
        if key in match_fields.data:
            match[key] = match_fields.str_list(key)
    for key in _BOOL_KEYS:
        if key in match_fields.data:
            match[key] = match_fields.bool(key)
    match_fields.done()
    hc = HardwareClass(
        id=cid, title=f.str("title"), kind=kind, priority=f.int("priority", 0),
        features=tuple(f.str_list("features", [])), match=match, source=path.name,
    )
    f.done()
    return hc


def matching(facts: Facts, classes: dict[str, HardwareClass]) -> list[HardwareClass]:
    """The classes `facts` match, most specific first (priority, then id for stability)."""
    found = [c for c in classes.values() if c.matches(facts)]
    return sorted(found, key=lambda c: (-c.priority, c.id))

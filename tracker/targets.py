"""Performance targets: the `[[targets]]` tables of challenge.toml, validated on load.

Relative targets hold on any machine (both sides are measured in the same run):

    [[targets]]
    metric = "lu_speedup"        # the name the grader checks: bench.check(result, "lu_speedup")
    kind = "speedup"             # speedup (min) | ratio (max) | drop (max)
    min = 0.05                   # speedup: a minimum; ratio (e.g. model size) and drop
    note = "why this bound"      # (e.g. accuracy lost) take `max`

Absolute targets depend on the machine, so they are keyed by hardware class, with a
fallback for classes not listed, scaled by this machine's calibration score:

    [[targets]]
    metric = "infer_latency"
    kind = "latency"             # latency (max) | throughput (min) | memory (max)
    unit = "ms"                  # latency: s, ms, us; memory: B, KiB, MiB, GiB; throughput: any
    by_class = { x86-cpu = 20, rpi5 = 90 }
    fallback = 25                # the bound on a machine of calibration score 1.0; elsewhere
                                 # latency / score, throughput * score (memory: not scaled)

A target measured only on some hardware names it: `needs = "nvidia-gpu"` (a name that
`hardware.detect.available` knows). Elsewhere its check is skipped with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracker.tomlfile import Fields, read_toml

# kind -> (relative?, direction, the key holding the bound)
KINDS: dict[str, tuple[bool, str, str]] = {
    "speedup": (True, ">=", "min"),
    "ratio": (True, "<=", "max"),
    "drop": (True, "<=", "max"),
    "latency": (False, "<=", "max"),
    "throughput": (False, ">=", "min"),
    "memory": (False, "<=", "max"),
}
_UNITS = {
    "latency": {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6},
    "memory": {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "KB": 1e3, "MB": 1e6,
               "GB": 1e9},
}
_DEFAULT_UNIT = {"latency": "s", "memory": "B", "throughput": "/s", "speedup": "x",
                 "ratio": "", "drop": ""}


@dataclass(frozen=True)
class Bound:
    """A target resolved for one machine: `measured <op> value` (value in base units:
    seconds, bytes, per second, or a plain ratio)."""

    metric: str
    op: str  # >= | <=
    value: float
    source: str  # "relative" | "class x86-cpu" | "fallback scaled by calibration score 0.81"
    unit: str  # the unit the author wrote (for display)
    scale: float = 1.0  # base units per display unit

    def describe(self) -> str:
        shown = self.value / self.scale
        unit = self.unit if self.unit not in ("", "x") else ""
        mark = "×" if self.unit == "x" else ""
        where = "" if self.source == "relative" else f" ({self.source})"
        return f"{self.op} {shown:.4g}{mark}{(' ' + unit) if unit else ''}{where}"

    def holds(self, value: float) -> bool:
        return value >= self.value if self.op == ">=" else value <= self.value


@dataclass(frozen=True)
class TargetSpec:
    metric: str
    kind: str
    bound: float | None = None  # relative targets
    by_class: dict[str, float] = field(default_factory=dict)  # absolute targets
    fallback: float | None = None
    unit: str = ""
    note: str = ""
    needs: str = ""  # the hardware the measurement runs on ("": any machine)

    @property
    def relative(self) -> bool:
        return KINDS[self.kind][0]

    @property
    def op(self) -> str:
        return KINDS[self.kind][1]

    @property
    def scale(self) -> float:
        return _UNITS.get(self.kind, {}).get(self.unit, 1.0)

    def resolve(self, class_ids: list[str], score: float | None = None
                ) -> tuple[Bound | None, str]:
        """The bound for a machine with these classes (most specific first) and calibration
        score; (None, why) when the target says nothing about this machine."""
        scale, unit = self.scale, self.unit
        if self.relative:
            return Bound(self.metric, self.op, self.bound, "relative", unit, scale), ""
        for cid in class_ids:
            if cid in self.by_class:
                return Bound(self.metric, self.op, self.by_class[cid] * scale, f"class {cid}",
                             unit, scale), ""
        if self.fallback is None:
            return None, (f"no {self.kind} target for {', '.join(class_ids) or 'this machine'} "
                          f"(targets exist for {', '.join(sorted(self.by_class))})")
        if self.kind == "memory":
            return Bound(self.metric, self.op, self.fallback * scale, "fallback", unit, scale), ""
        if not score or score <= 0:
            return None, "no calibration score for this machine to scale the fallback target"
        factor = 1 / score if self.kind == "latency" else score
        source = f"fallback scaled by calibration score {score:.2f}"
        return Bound(self.metric, self.op, self.fallback * scale * factor, source, unit,
                     scale), ""

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "kind": self.kind, "bound": self.bound,
                "by_class": dict(self.by_class), "fallback": self.fallback, "unit": self.unit,
                "note": self.note, "needs": self.needs}


def parse_targets(tables: list[Fields], known_classes: set[str] | None = None
                  ) -> tuple[TargetSpec, ...]:
    """Validate `[[targets]]` tables; every error names the file and the field."""
    if known_classes is None:
        from hardware.classes import load_classes

        known_classes = set(load_classes())
    specs: list[TargetSpec] = []
    seen: set[str] = set()
    for f in tables:
        spec = _parse_one(f, known_classes)
        if spec.metric in seen:
            raise f.fail("metric", f"'{spec.metric}' has two targets; give each metric one")
        seen.add(spec.metric)
        specs.append(spec)
    return tuple(specs)


def _parse_one(f: Fields, known: set[str]) -> TargetSpec:
    metric = f.str("metric")
    kind = f.str("kind")
    if kind not in KINDS:
        raise f.fail("kind", f"must be one of {', '.join(KINDS)} (got {kind!r})")
    relative, op, key = KINDS[kind]
    wrong = "max" if key == "min" else "min"
    if wrong in f.data:
        what = "a minimum" if key == "min" else "a maximum"
        raise f.fail(wrong, f"does not apply: a {kind} target is {what}; use `{key} = ...`")
    unit = f.str("unit", _DEFAULT_UNIT[kind])
    if kind in _UNITS and unit not in _UNITS[kind]:
        raise f.fail("unit", f"must be one of {', '.join(_UNITS[kind])} for {kind} "
                             f"(got {unit!r})")
    note = f.str("note", "")
    needs = f.str("needs", "")
    if relative:
        if "by_class" in f.data or "fallback" in f.data:
            name = "by_class" if "by_class" in f.data else "fallback"
            raise f.fail(name, f"does not apply: a {kind} target is relative "
                               "(the same on every machine); give `" + key + "`")
        bound = f.number(key, positive=True)
        spec = TargetSpec(metric, kind, bound=bound, unit=unit, note=note, needs=needs)
    else:
        if key in f.data:
            raise f.fail(key, f"does not apply: a {kind} target is absolute; give `by_class` "
                              "(per hardware class) and/or `fallback`")
        classes = f.table("by_class")
        by_class = {}
        for cid in list(classes.data):
            if cid not in known:
                raise classes.fail(cid, "names no hardware class; known: "
                                        + ", ".join(sorted(known)))
            by_class[cid] = classes.number(cid, positive=True)
        classes.done()
        fallback = f.number("fallback", None, positive=True)
        if not by_class and fallback is None:
            raise f.fail("by_class", "is required (or `fallback`): an absolute target needs "
                                     "a bound for some machine")
        spec = TargetSpec(metric, kind, by_class=by_class, fallback=fallback, unit=unit,
                          note=note, needs=needs)
    f.done()
    return spec


def targets_of(challenge_toml: Path) -> tuple[TargetSpec, ...]:
    """Just the targets of a challenge.toml (what a grader needs at grading time)."""
    f = Fields(read_toml(challenge_toml), challenge_toml)
    return parse_targets(f.tables("targets"))

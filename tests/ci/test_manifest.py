"""The course manifest: what it covers, its format, and the copy shipped with this course."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tracker import manifest

REPO = Path(__file__).resolve().parents[2]


def test_it_covers_graders_data_starters_specs_references_plans_and_helpers(course):
    files = manifest.course_files(course.root)
    for rel in ("challenges/close/test_close.py", "challenges/close/challenge.toml",
                "challenges/close/starter.py", "challenges/close/spec.md",
                "challenges/close/reference/solution.py", "challenges/plans/mini.toml"):
        assert rel in files
    assert "challenges/MANIFEST.sha256" not in files  # it cannot list its own digest
    assert not any(f.startswith("solutions/") for f in files)


def test_it_covers_the_grading_helpers_when_the_course_ships_them():
    files = manifest.course_files(REPO)
    assert {"graders/plugin.py", "graders/expect.py", "hardware/classes/cpu.toml"} <= set(files)
    assert not any("__pycache__" in f for f in files)


def test_the_format_is_sha256sum_s_own(course):
    text = (course.root / manifest.MANIFEST).read_text()
    assert text.splitlines() == sorted(text.splitlines(), key=lambda line: line[66:])
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum is not installed")
    done = subprocess.run(["sha256sum", "--check", "--strict", "--quiet",
                           str(manifest.MANIFEST)], cwd=course.root, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_per_day_check_looks_only_at_what_that_day_depends_on(course):
    (course.challenges_dir / "add" / "spec.md").write_text("changed\n")
    whole = manifest.verify(course.root)
    assert whole.modified == ["challenges/add/spec.md"]
    close = manifest.verify(course.root, prefixes=manifest.day_prefixes("close"))
    assert close.ok and close.checked == 6  # its 5 files and the plan


def test_a_malformed_manifest_is_reported_with_its_line(course):
    from tracker.errors import ContractError

    path = course.root / manifest.MANIFEST
    path.write_text(path.read_text() + "not a line\n")
    with pytest.raises(ContractError, match=r"MANIFEST.sha256:\d+: not a `<sha256>  <path>`"):
        manifest.verify(course.root)


def test_the_shipped_manifest_matches_the_course():
    """Every file git tracks is in the manifest with its digest (a new challenge not yet
    added to git is left out: it is not part of the course yet)."""
    result = manifest.verify(REPO)
    tracked = set(subprocess.run(["git", "ls-files", "--", *manifest.COVERED], cwd=REPO,
                                 capture_output=True, text=True).stdout.splitlines())
    problems = [f"{p} (modified)" for p in result.modified] + [
        f"{p} (missing)" for p in result.missing] + [
        f"{p} (added)" for p in result.added if p in tracked]
    assert not problems, ("challenges/MANIFEST.sha256 is out of date: " + "; ".join(problems[:10])
                          + " — after changing a challenge, run `mltrack verify --update` and "
                            "commit challenges/MANIFEST.sha256 with it")

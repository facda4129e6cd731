"""The challenge contract: a loader that names the file and field of every problem."""

from __future__ import annotations

import re
import shutil

import pytest

from tracker.catalog import load_challenge, stray_entries
from tracker.errors import ContractError


@pytest.fixture
def challenge(workspace):
    """A copy of the fixture challenge 'add' to break in various ways."""
    folder = workspace.root / "scratch" / "add"
    shutil.copytree(workspace.challenges_dir / "add", folder)
    return folder


def edit_meta(folder, old: str, new: str) -> None:
    meta = folder / "challenge.toml"
    meta.write_text(meta.read_text().replace(old, new))


def test_a_valid_challenge_loads(challenge):
    ch = load_challenge(challenge)
    assert (ch.id, ch.api, ch.timeout_s, ch.memory_mb) == ("add", ("add",), 10.0, 512)
    assert ch.hints[0] == "Python has an operator for this."
    assert [p.name for p in ch.grader_files()] == ["test_add.py"]


@pytest.mark.parametrize("old,new,needle", [
    ('id = "add"', 'id = "plus"', "field 'id' must equal the folder name 'add'"),
    ("timeout_s = 10", "timout_s = 10", "field 'timout_s' is not a known field"),
    ("timeout_s = 10", 'timeout_s = "ten"', "field 'timeout_s' must be a number"),
    ("timeout_s = 10", "timeout_s = -1", "field 'timeout_s' must be positive"),
    ('api = ["add"]', 'api = ["add-two"]',
     "field 'api' entry 'add-two' is not a Python identifier"),
    ('hints = ["Python has an operator for this.", "return a + b"]', "hints = []",
     "field 'hints' must list at least one hint"),
    ('title = "Add two numbers"', "", "field 'title' is required"),
])
def test_bad_metadata_names_the_file_and_the_field(challenge, old, new, needle):
    edit_meta(challenge, old, new)
    with pytest.raises(ContractError) as err:
        load_challenge(challenge)
    assert str(err.value).startswith(str(challenge / "challenge.toml")) and needle in str(err.value)


@pytest.mark.parametrize("missing,needle", [
    ("starter.py", "starter.py: file is missing"),
    ("spec.md", "spec.md: file is missing"),
    ("test_add.py", "no grader (test_*.py) found"),
    ("reference", "reference solution is missing"),
    ("challenge.toml", "challenge.toml: file is missing"),
])
def test_a_missing_part_is_named(challenge, missing, needle):
    target = challenge / missing
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(ContractError, match=re.escape(needle)):
        load_challenge(challenge)


def test_a_non_utf8_spec_is_reported(challenge):
    (challenge / "spec.md").write_bytes(b"caf\xe9")
    with pytest.raises(ContractError, match=r"spec.md: not UTF-8"):
        load_challenge(challenge)


def test_stray_files_are_listed_for_the_self_check(challenge):
    (challenge / "notes.txt").write_text("x")
    (challenge / "test_extra.py").write_text("")
    assert stray_entries(challenge) == ["notes.txt"]

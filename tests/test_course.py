"""The course checks itself: every challenge keeps the contract, every starter fails its
grader, every reference passes it, and every recorded typical mistake is caught."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graders.results import Verdict
from graders.runner import grade
from tests import mistake_files
from tracker.catalog import Catalog, stray_entries
from tracker.engine import job_for
from tracker.plan import load_plan

ROOT = Path(__file__).resolve().parent.parent
CATALOG = Catalog(ROOT / "challenges")
MISTAKES = Path(__file__).parent / "mistakes"
IDS = CATALOG.ids()


def _marks(cid: str) -> list:
    try:
        return [pytest.mark.slow] if CATALOG.get(cid).slow else []
    except Exception:
        return []  # the metadata test reports the problem


def _params(ids):
    return [pytest.param(cid, id=cid, marks=_marks(cid)) for cid in ids]


def _mistakes():
    for folder in sorted(MISTAKES.iterdir()) if MISTAKES.is_dir() else []:
        for path in sorted([*folder.glob("*.py"), *folder.glob("*.diff")]):
            yield pytest.param(folder.name, path, id=f"{folder.name}-{path.stem}",
                               marks=_marks(folder.name))


def _grade_file(cid: str, source: Path, tmp_path: Path, text: str | None = None):
    ch = CATALOG.get(cid)
    folder = tmp_path / "solution"
    folder.mkdir()
    if text is None:
        shutil.copyfile(source, folder / ch.solution_file)
    else:
        (folder / ch.solution_file).write_text(text, encoding="utf-8")
    return grade(job_for(ch, folder))


@pytest.mark.parametrize("cid", _params(IDS))
def test_challenge_keeps_the_contract(cid):
    ch = CATALOG.get(cid)
    assert stray_entries(ch.path) == [], "files the contract does not know"
    assert ch.spec().strip(), "empty spec"
    assert len(ch.hints) >= 2, "give at least two ordered hints"


def test_every_plan_entry_resolves_and_every_challenge_is_planned():
    planned = set()
    for path in sorted((ROOT / "challenges" / "plans").glob("*.toml")):
        plan = load_plan(path)
        for day in plan.challenge_days():
            assert day.challenge in IDS, f"{path.name}: day {day.day} -> missing {day.challenge}"
            planned.add(day.challenge)
    assert set(IDS) <= planned, f"challenges no plan uses: {sorted(set(IDS) - planned)}"


@pytest.mark.parametrize("cid", _params(IDS))
def test_starter_fails_its_grader(cid, tmp_path):
    result = _grade_file(cid, CATALOG.get(cid).starter_path, tmp_path)
    assert result.verdict == Verdict.FAILED, f"{result.verdict}: {result.message}"


@pytest.mark.parametrize("cid", _params(IDS))
def test_reference_passes_its_grader(cid, tmp_path):
    ch = CATALOG.get(cid)
    result = grade(job_for(ch, ch.reference_dir))
    allowed = {Verdict.PASSED} | ({Verdict.SKIPPED} if ch.hardware else set())
    failures = [f"{c.name}: {c.message}" for c in result.cases if c.outcome != "passed"]
    assert result.verdict in allowed, f"{result.verdict}: {result.message}\n" + "\n".join(failures)


@pytest.mark.parametrize("cid,path", list(_mistakes()))
def test_typical_mistake_is_caught_with_a_pointed_message(cid, path, tmp_path):
    ch = CATALOG.get(cid)
    m = mistake_files.read(path, ch.reference_dir / ch.solution_file)
    result = _grade_file(cid, path, tmp_path, text=m.source)
    assert result.verdict != Verdict.PASSED, f"the mistake passed: {m.mistake}"
    messages = [result.message] + [c.message for c in result.cases]
    assert any(m.expect in text for text in messages), (
        f"no message mentions {m.expect!r}; got: {result.message}"
    )

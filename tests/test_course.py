"""The course checks itself: every challenge keeps the contract, every starter fails its
grader, every reference passes it, and every recorded typical mistake is caught.

The grades run ahead of the tests, a few at once (tests/grade_pool.py); each test asserts
on its own grade.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graders.results import Verdict
from graders.runner import grade
from tests import mistake_files
from tests.grade_pool import GradePool, default_workers
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


def _grade_text(cid: str, text: str, folder: Path):
    ch = CATALOG.get(cid)
    folder.mkdir()
    (folder / ch.solution_file).write_text(text, encoding="utf-8")
    return grade(job_for(ch, folder))


def _starter(cid: str, folder: Path):
    return _grade_text(cid, CATALOG.get(cid).starter_path.read_text(encoding="utf-8"), folder)


def _reference(cid: str, _folder: Path):
    ch = CATALOG.get(cid)
    return grade(job_for(ch, ch.reference_dir))


def _mistake(cid: str, path: Path, folder: Path):
    ch = CATALOG.get(cid)
    return _grade_text(cid, mistake_files.read(path, ch.reference_dir / ch.solution_file).source,
                       folder)


# what each graded test grades, from its parameters and an empty folder of its own
_GRADES = {
    "test_starter_fails_its_grader": lambda p, folder: _starter(p["cid"], folder),
    "test_reference_passes_its_grader": lambda p, folder: _reference(p["cid"], folder),
    "test_typical_mistake_is_caught_with_a_pointed_message":
        lambda p, folder: _mistake(p["cid"], p["path"], folder),
}


def _measures_speed(cid: str) -> bool:
    try:
        return bool(CATALOG.get(cid).targets)
    except Exception:
        return False


@pytest.fixture(scope="module")
def graded(request, tmp_path_factory):
    """Every selected grade of this module, submitted in test order to a pool."""
    pool = GradePool(default_workers())
    for item in request.session.items:
        make = _GRADES.get(getattr(item, "originalname", ""))
        if make is None or item.module is not request.module:
            continue
        params = dict(item.callspec.params)
        folder = tmp_path_factory.mktemp("selfcheck") / "solution"
        pool.submit(item.nodeid, lambda make=make, params=params, folder=folder:
                    make(params, folder), exclusive=_measures_speed(params["cid"]))
    yield pool
    pool.close()


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
def test_starter_fails_its_grader(cid, graded, request):
    result = graded.result(request.node.nodeid)
    assert result.verdict == Verdict.FAILED, f"{result.verdict}: {result.message}"


@pytest.mark.parametrize("cid", _params(IDS))
def test_reference_passes_its_grader(cid, graded, request):
    ch = CATALOG.get(cid)
    result = graded.result(request.node.nodeid)
    allowed = {Verdict.PASSED} | ({Verdict.SKIPPED} if ch.hardware else set())
    failures = [f"{c.name}: {c.message}" for c in result.cases if c.outcome != "passed"]
    assert result.verdict in allowed, f"{result.verdict}: {result.message}\n" + "\n".join(failures)


@pytest.mark.parametrize("cid,path", list(_mistakes()))
def test_typical_mistake_is_caught_with_a_pointed_message(cid, path, graded, request):
    ch = CATALOG.get(cid)
    m = mistake_files.read(path, ch.reference_dir / ch.solution_file)
    result = graded.result(request.node.nodeid)
    assert result.verdict != Verdict.PASSED, f"the mistake passed: {m.mistake}"
    messages = [result.message] + [c.message for c in result.cases]
    assert any(m.expect in text for text in messages), (
        f"no message mentions {m.expect!r}; got: {result.message}"
    )

"""The course checks itself: every challenge keeps the contract, every starter fails its
grader, every reference passes it, and every recorded typical mistake is caught.

The grades run ahead of the tests, a few at once (tests/grade_pool.py); each test asserts
on its own grade. A starter or a mistake is graded up to its first failed check, as a
mutation tester stops at the first kill: that failure is as real as in a full run, and a
mistake whose first failure is not the pointed one is graded again in full. On a day with
speed targets, the reference runs alone in the pool, and so does any grade that measured
something before its verdict: a timing taken beside other grades decides nothing.
"""

from __future__ import annotations

import dataclasses
import shutil
from contextlib import nullcontext
from pathlib import Path

import pytest

from graders.results import Outcome, Verdict
from graders.runner import grade
from hardware.detect import available
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


def _grade_text(cid: str, text: str, folder: Path, *, first_failure: bool = False):
    ch = CATALOG.get(cid)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / ch.solution_file).write_text(text, encoding="utf-8")
    return grade(dataclasses.replace(job_for(ch, folder), first_failure=first_failure))


def _messages(result) -> list[str]:
    return [result.message] + [c.message for c in result.cases]


def _measures_speed(cid: str) -> bool:
    """Does grading `cid` time something here? Such a grade is trusted only when it ran
    alone in the pool."""
    try:
        targets = CATALOG.get(cid).targets
    except Exception:
        return False
    return any(not t.needs or available(t.needs)[0] for t in targets)


def _measured(result) -> bool:
    """Did the grade record a measurement (a timing, or any figure) on its way?"""
    return bool(result.benches or result.metrics)


def _starter(cid: str, folder: Path, alone):
    text = CATALOG.get(cid).starter_path.read_text(encoding="utf-8")
    quick = _grade_text(cid, text, folder, first_failure=True)
    if _measured(quick) and _measures_speed(cid):  # it timed something beside other grades
        with alone():
            return _grade_text(cid, text, folder, first_failure=True)
    return quick


def _reference(cid: str, _folder: Path, alone):
    ch = CATALOG.get(cid)
    with alone() if _measures_speed(cid) else nullcontext():
        return grade(job_for(ch, ch.reference_dir))


def _mistake(cid: str, path: Path, folder: Path, alone):
    """Up to the first failure beside other grades; in full (alone, for a timed day) unless
    that failure is the pointed one and, on a timed day, nothing was timed on the way."""
    ch = CATALOG.get(cid)
    m = mistake_files.read(path, ch.reference_dir / ch.solution_file)
    timed = _measures_speed(cid)
    quick = _grade_text(cid, m.source, folder, first_failure=True)
    caught = any(m.expect in t for t in _messages(quick))
    complete = all(c.outcome != Outcome.NOT_RUN for c in quick.cases)
    if not timed and (caught or complete) or timed and caught and not _measured(quick):
        return quick
    with alone() if timed else nullcontext():
        return _grade_text(cid, m.source, folder)


# what each graded test grades, from its parameters, an empty folder of its own, and the
# pool's `alone` (the grade runs with nothing beside it)
_GRADES = {
    "test_starter_fails_its_grader": lambda p, folder, alone: _starter(p["cid"], folder, alone),
    "test_reference_passes_its_grader":
        lambda p, folder, alone: _reference(p["cid"], folder, alone),
    "test_typical_mistake_is_caught_with_a_pointed_message":
        lambda p, folder, alone: _mistake(p["cid"], p["path"], folder, alone),
}


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
        pool.submit(item.nodeid, lambda alone, make=make, params=params, folder=folder:
                    make(params, folder, alone))
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
    assert any(m.expect in text for text in _messages(result)), (
        f"no message mentions {m.expect!r}; got: {result.message}"
    )

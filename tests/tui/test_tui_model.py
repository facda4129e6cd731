"""The TUI's view of the engine: the filter language and the progress figures."""

from __future__ import annotations

from graders.results import Outcome, Verdict
from tests.tui.kit import record
from tracker.engine import Tracker
from tracker.tui.model import Query, Standing, Tags, read_standing


def _day(tracker, number):
    return tracker.plan.lookup(str(number))


def test_plain_words_match_title_tag_or_status(course, clock):
    t = Tracker(course, clock=clock)
    standing = read_standing(t)
    tags = Tags(t)

    def shown(text):
        q = Query.parse(text)
        return [d.day for d in standing.plan.days if q.matches(d, standing.status(d), tags.of(d))]

    assert shown("gpu") == [3]  # title
    assert shown("basics") == [1]  # a tag, as a plain word
    assert shown("#bas") == [1] and shown("tag:basics") == [1]  # tag prefix
    assert shown("is:rest") == [2] and shown("rest") == [2]
    assert shown("is:buffer") == [5]
    assert shown("is:todo") == [1, 3]  # not started or not passed yet
    assert shown("day3") == [3] and shown("6") == [5]  # a day inside the buffer range
    assert shown("gpu is:passed") == []  # every token must match
    assert not Query.parse("   ") and shown("") == [1, 2, 3, 4, 5]


def test_standing_counts_passed_days_per_phase_and_the_streak(course, clock):
    t = Tracker(course, clock=clock)
    before = Standing(t.quick_plan())
    assert not before.loaded and before.overall() == (None, 2)
    assert before.status(_day(t, 2)) == "rest"  # known from the plan file alone
    assert before.status(_day(t, 1)) is None  # needs the record

    record(t, "add", 1, Verdict.PASSED, [("test_small_integers", Outcome.PASSED, "")])
    clock.advance(days=1)
    standing = read_standing(t)
    assert standing.overall() == (1, 2)
    first, second = standing.plan.phases
    assert standing.phase_progress(first) == (1, 1) and standing.phase_progress(second) == (0, 1)
    assert standing.streak == 1  # yesterday counts until today has activity
    assert standing.next().day.day == 3

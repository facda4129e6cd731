"""Plans are data: the 150-day table row for row, day ids, and validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.errors import ContractError, NotGradable, UnknownDay
from tracker.plan import load_plan, parse_day_number

ML150 = Path(__file__).resolve().parents[2] / "challenges" / "plans" / "ml150.toml"


@pytest.fixture(scope="module")
def plan():
    return load_plan(ML150)


def test_the_150_day_plan_has_every_row_of_its_table(plan):
    assert len(plan.days) == 136
    assert [d.day for d in plan.days][:3] == [1, 2, 3]
    assert sum(d.kind == "rest" for d in plan.days) == 24
    buffer = plan.days[-1]
    assert (buffer.kind, buffer.day, buffer.until) == ("buffer", 136, 150)
    assert [p.number for p in plan.phases] == [1, 2, 3, 4, 5]
    assert [len(p.days) for p in plan.phases] == [30, 30, 26, 23, 27]


def test_day_numbers_are_the_tables_own_and_capstone_labels_stay_in_titles(plan):
    assert plan.lookup("day53").title == "Post-training static quantization in PyTorch"
    capstone = plan.lookup("58")
    assert capstone.title.startswith("Capstone 1 (Day 60):")
    assert plan.lookup("85").title.startswith("Capstone 2 Prep (Day 90):")
    assert plan.lookup("135").title.startswith("Capstone 3 (Day 150):")


@pytest.mark.parametrize("text", ["day53", "53", "day053", "Day 53", "DAY053", " 53 "])
def test_day_ids_in_every_common_spelling(text):
    assert parse_day_number(text) == 53


@pytest.mark.parametrize("text", ["dayx", "day-", "", "5x", "day 5 3", "week1", "-3", "day-3"])
def test_things_that_are_not_day_ids(text):
    assert parse_day_number(text) is None


def test_an_unknown_day_names_it_and_suggests_the_closest(plan):
    with pytest.raises(UnknownDay) as err:
        plan.resolve("day999")
    assert str(err.value) == (
        "unknown day 'day999': plan ml150 has days 1–150; closest: day134, day135, day136-150"
    )
    with pytest.raises(UnknownDay, match="unknown day 'dayx'"):
        plan.resolve("dayx")


def test_rest_and_buffer_days_say_what_they_are(plan):
    with pytest.raises(NotGradable, match="day 7 of ml150 is a rest day"):
        plan.resolve("day7")
    with pytest.raises(NotGradable, match=r"day 140 of ml150 is a buffer day \(136–150\)"):
        plan.resolve("140")
    buffer = plan.lookup("140")
    assert plan.lookup(buffer.label) == buffer, "a label mltrack prints is accepted back"


def _plan_file(tmp_path, body: str) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text(body, encoding="utf-8")
    return path


HEAD = 'id = "p"\ntitle = "P"\n[[phases]]\nnumber = 1\ntitle = "One"\n'


@pytest.mark.parametrize("body,needle", [
    ('title = "no id"\n', "field 'id' is required"),
    ('id = "p"\ntitle = [1\n', "invalid TOML"),
    (HEAD + '[[phases.days]]\nday = 1\ntitle = "a"\nchalenge = "x"\n',
     "field 'phases[0].days[0].chalenge' is not a known field"),
    (HEAD + '[[phases.days]]\nday = "one"\ntitle = "x"\n',
     "field 'phases[0].days[0].day' must be an integer"),
    (HEAD + '[[phases.days]]\nday = 1\nkind = "nap"\ntitle = "x"\n',
     "must be one of challenge, rest, buffer"),
    (HEAD + '[[phases.days]]\nday = 1\ntitle = "a"\n[[phases.days]]\nday = 3\ntitle = "b"\n',
     "day 3 is out of sequence (expected day 2)"),
    (HEAD + '[[phases.days]]\nday = 1\nkind = "rest"\nchallenge = "x"\ntitle = "a"\n',
     "is not allowed on a rest day"),
])
def test_a_malformed_plan_names_the_file_and_the_field(tmp_path, body, needle):
    path = _plan_file(tmp_path, body)
    with pytest.raises(ContractError) as err:
        load_plan(path)
    assert str(err.value).startswith(str(path)) and needle in str(err.value)


def test_a_plan_that_is_not_utf8_is_reported(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('id = "p"\ntitle = "Caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ContractError, match="not UTF-8"):
        load_plan(path)

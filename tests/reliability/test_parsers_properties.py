"""Property-based tests of the parsers mltrack feeds with learner input: day ids, plan files
and challenge files. Whatever the input, the answer is a value or one of mltrack's own
errors with a message, never a crash."""

from __future__ import annotations

import shutil
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.catalog import load_challenge
from tracker.errors import ContractError, MltrackError
from tracker.plan import load_plan, parse_day_number

ROOT = Path(__file__).resolve().parents[2]
PLAN = load_plan(ROOT / "challenges" / "plans" / "ml150.toml")
FIXTURE_ADD = Path(__file__).resolve().parents[1] / "fixtures" / "course" / "challenges" / "add"
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@given(st.integers(min_value=0, max_value=9999), st.sampled_from(["", "day", "Day ", "DAY0"]),
       st.sampled_from(["", "0", "00"]))
def test_every_spelling_of_a_number_parses_to_it(n, prefix, pad):
    assert parse_day_number(f"{prefix}{pad}{n}") == n


@given(st.text(max_size=30))
def test_any_text_resolves_to_a_day_or_a_clear_error(text):
    try:
        day = PLAN.resolve(text)
    except MltrackError as exc:
        message = str(exc)
        assert message and "\n" not in message
    else:
        assert day.gradable


@given(st.integers(min_value=1, max_value=150))
def test_every_day_of_the_plan_is_found_by_number(n):
    day = PLAN.lookup(str(n))
    assert day.covers(n)


toml_values = st.one_of(
    st.integers(), st.floats(allow_nan=False), st.booleans(), st.text(max_size=20),
    st.lists(st.text(max_size=10), max_size=3),
)
keys = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12)


def toml_literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if value == value else "nan"
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    return "[" + ", ".join(toml_literal(v) for v in value) + "]"


@SETTINGS
@given(st.dictionaries(keys, toml_values, max_size=6), st.binary(max_size=40))
def test_a_mangled_challenge_toml_is_loaded_or_named(tmp_path_factory, fields, junk):
    folder = tmp_path_factory.mktemp("c") / "add"
    shutil.copytree(FIXTURE_ADD, folder)
    meta = folder / "challenge.toml"
    original = meta.read_text(encoding="utf-8")
    body = "\n".join(f"{k} = {toml_literal(v)}" for k, v in fields.items())
    for text in (original + "\n" + body, body, original[: len(original) // 2]):
        meta.write_text(text, encoding="utf-8")
        _load_or_named_error(folder, meta)
    meta.write_bytes(original.encode() + junk)
    _load_or_named_error(folder, meta)


def _load_or_named_error(folder: Path, meta: Path) -> None:
    try:
        load_challenge(folder)
    except ContractError as exc:
        assert str(exc).startswith(str(folder)), exc


@SETTINGS
@given(st.integers(min_value=0, max_value=2000), st.binary(max_size=20))
def test_a_truncated_or_corrupted_plan_is_loaded_or_named(tmp_path_factory, cut, junk):
    path = tmp_path_factory.mktemp("p") / "plan.toml"
    data = (ROOT / "challenges" / "plans" / "ml150.toml").read_bytes()
    path.write_bytes(data[: len(data) - cut] + junk)
    try:
        load_plan(path)
    except ContractError as exc:
        assert str(exc).startswith(str(path))

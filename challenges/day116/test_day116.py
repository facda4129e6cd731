"""Day 116 grader: a live Streamlit view of progress.db, driven by Streamlit's own test harness
(streamlit.testing.v1.AppTest).

The grader writes a progress.db with mltrack's own Store (graders.data.bench_db: the call a
grade makes), compares what the app shows with the records it wrote, then records new attempts
while the app is open and checks that a plain rerun and a click on Refresh show them — a cache
that never invalidates fails here. Around every call and every run of the app, the database's
folder (each file's SHA-256 and mtime, and the list of entries) must stay as it was."""

import hashlib
import math
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from graders.apptest import chart_frames, fail_on_exception, metric
from graders.data import bench_db

ENV = "MLTRACK_DB"
COLUMNS = ["challenge", "attempt_id", "name", "kind", "value", "unit", "verdict", "hw_class"]
SHOWN = ["attempt_id", "name", "kind", "value", "unit", "verdict"]
REL = 1e-12  # values are stored as doubles: only ms = value * 1000 rounds
RUN_S = 10  # one run of the app in the harness

# attempt ids 1..4, in this order
ATTEMPTS = [
    ("day105", "passed", [("matmul untuned", "measure", 0.0125, "s", "", "x86-cpu"),
                          ("matmul tuned", "measure", 0.004, "s", "PASS", "x86-cpu"),
                          ("tuned vs untuned", "compare", 3.05, "x", "PASS", "x86-cpu")]),
    ("day089", "passed", [("searched cnn", "measure", 0.0031, "s", "", "x86-cpu"),
                          ("searched vs widest", "compare", 1.75, "x", "PASS", "x86-cpu")]),
    ("day105", "failed", [("matmul untuned", "measure", 0.0131, "s", "", "x86-cpu"),
                          ("matmul tuned", "measure", 0.0052, "s", "FAIL", "x86-cpu")]),
    ("day093", "passed", [("fp32", "measure", 0.0062, "s", "", "x86-cpu"),
                          ("int8 dynamic", "measure", 0.0041, "s", "PASS", "x86-cpu")]),
]
# recorded while the app is open: attempt 5 (then a plain rerun), attempt 6 (then Refresh)
LATER = [("day105", "passed", [("matmul untuned", "measure", 0.0122, "s", "", "x86-cpu"),
                               ("matmul tuned", "measure", 0.0038, "s", "PASS", "x86-cpu")]),
         ("day110", "passed", [("batched", "measure", 0.0021, "s", "PASS", "x86-cpu")])]


def records(attempts=ATTEMPTS) -> list[dict]:
    """The grader's own list of what it recorded, oldest first."""
    return [dict(zip(COLUMNS, (challenge, i, name, kind, value, unit, verdict, hw),
                     strict=True))
            for i, (challenge, _, benches) in enumerate(attempts, start=1)
            for name, kind, value, unit, verdict, hw in benches]


def close(a, b) -> bool:
    try:
        return math.isclose(float(a), float(b), rel_tol=REL, abs_tol=0.0)
    except (TypeError, ValueError):
        return False


def snapshot(folder: Path) -> dict:
    return {p.name: ((hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
                     if p.is_file() else "folder") for p in sorted(folder.iterdir())}


def unchanged(folder: Path, before: dict, what: str) -> None:
    after = snapshot(folder)
    if after != before:
        new = sorted(set(after) - set(before))
        changed = sorted(k for k in before if after.get(k) != before[k])
        pytest.fail(f"{what} modified the database's folder: new entries {new or 'none'}, "
                    f"changed {changed or 'none'} — open progress.db read-only "
                    "(sqlite3.connect('file:...?mode=ro', uri=True)), never with Store, which "
                    "migrates it and switches its journal mode, and never create it",
                    pytrace=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """The grader's databases, built once: the four attempts, and one without any record."""
    folder = tmp_path_factory.mktemp("built")
    (folder / "full").mkdir()
    (folder / "empty").mkdir()
    bench_db.record(folder / "full" / "progress.db", ATTEMPTS)
    bench_db.record(folder / "empty" / "progress.db", [])
    return {"full": folder / "full" / "progress.db", "empty": folder / "empty" / "progress.db"}


def fresh(built, kind: str, tmp_path: Path) -> Path:
    """A copy of a built database, alone in its folder."""
    path = tmp_path / kind / "progress.db"
    path.parent.mkdir()
    shutil.copy2(built[kind], path)
    return path


@pytest.fixture
def app(solution_dir, monkeypatch):
    """A fresh harness on the learner's solution.py, with Streamlit's caches emptied."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    st.cache_resource.clear()

    def start(db_path):
        if db_path is None:
            monkeypatch.delenv(ENV, raising=False)
        else:
            monkeypatch.setenv(ENV, str(db_path))
        at = AppTest.from_file(str(solution_dir / "solution.py"), default_timeout=RUN_S)
        return run(at, db_path)

    return start


def run(at, db_path, what="the app"):
    """Run (or rerun) the app; its folder must not change, and an exception is a verdict."""
    folder = Path(db_path).parent if db_path is not None else None
    before = snapshot(folder) if folder is not None and folder.is_dir() else None
    at.run()
    if before is not None:
        unchanged(folder, before, what)
    fail_on_exception(at, what, "the page")
    return at


def chart_data(at) -> pd.DataFrame:
    """The data of the chart that plots ms by attempt_id."""
    frames = chart_frames(at)
    for spec, frame in frames:
        if {"attempt_id", "name", "ms"} <= set(frame.columns) and '"ms"' in spec:
            return frame
    seen = [sorted(map(str, frame.columns)) for _, frame in frames]
    pytest.fail(f"no chart plots ms by attempt_id: the app has {len(seen)} chart dataset(s) "
                f"with columns {seen}; e.g. st.line_chart(times, x='attempt_id', y='ms', "
                "color='name')", pytrace=False)


def check_view(at, challenge: str, attempts=ATTEMPTS, when: str = "") -> None:
    """Selectbox, metrics, table and chart show `challenge`'s records of `attempts`."""
    every = records(attempts)
    want = [r for r in every if r["challenge"] == challenge]
    tag = f"{challenge}{when}"
    box = select_box(at)
    options = sorted({r["challenge"] for r in every})
    assert list(box.options) == options, (
        f"{tag}: the 'Challenge' options are {list(box.options)}, expected {options}: every "
        "challenge with a benchmark record, sorted" + (
            " — the new records are not shown: the cached read never sees the database change "
            "(key the cache on the file's st_mtime_ns and st_size, or clear it)"
            if set(box.options) < set(options) else ""))
    assert len(at.dataframe) == 1, f"{tag}: expected one st.dataframe, found {len(at.dataframe)}"
    table = at.dataframe[0].value
    missing = [c for c in SHOWN if c not in table.columns]
    assert not missing, f"{tag}: the table lacks the column(s) {missing}; it must show {SHOWN}"
    got = table[SHOWN].to_dict("records")
    if len(got) != len(want) or any(
            int(g["attempt_id"]) != w["attempt_id"] or g["name"] != w["name"]
            or g["kind"] != w["kind"] or g["unit"] != w["unit"] or g["verdict"] != w["verdict"]
            or not close(g["value"], w["value"]) for g, w in zip(got, want, strict=False)):
        stale = len(got) < len(want) and {int(g["attempt_id"]) for g in got} < {
            w["attempt_id"] for w in want}
        pytest.fail(f"{tag}: the table shows {len(got)} record(s) "
                    f"{[(g['attempt_id'], g['name']) for g in got]}; expected {len(want)}: "
                    f"{[(w['attempt_id'], w['name']) for w in want]} (every attempt, oldest "
                    "first, values as stored)" + (
                        " — the new records are not shown: the cached read never sees the "
                        "database change" if stale else ""), pytrace=False)
    frame = chart_data(at)
    points = sorted((int(a), str(n), float(m)) for a, n, m in zip(
        frame["attempt_id"], frame["name"], frame["ms"], strict=True))
    expected = sorted((w["attempt_id"], w["name"], w["value"] * 1e3) for w in want
                      if w["unit"] == "s")
    if len(points) != len(expected) or any(
            g[:2] != w[:2] or not close(g[2], w[2]) for g, w in zip(points, expected,
                                                                     strict=False)):
        hint = (" — those are seconds: ms = value * 1000" if len(points) == len(expected)
                and all(close(g[2] * 1e3, w[2]) for g, w in zip(points, expected, strict=True))
                else "")
        pytest.fail(f"{tag}: the chart's (attempt_id, name, ms) points are {points}; expected "
                    f"{expected}: the challenge's time records (unit 's') of every attempt"
                    f"{hint}", pytrace=False)
    assert metric(at, "Records") == str(len(want)), (
        f"{tag}: 'Records' shows {metric(at, 'Records')!r}, expected {str(len(want))!r} (the "
        "challenge's records over every attempt)")
    latest = str(max(w["attempt_id"] for w in want))
    assert metric(at, "Latest attempt") == latest, (
        f"{tag}: 'Latest attempt' shows {metric(at, 'Latest attempt')!r}, expected {latest!r}")


def select_box(at):
    boxes = [s for s in at.selectbox if s.label == "Challenge"]
    shown = [m.value for m in (*at.error, *at.warning)]
    assert len(boxes) == 1, (
        f"expected one st.selectbox labelled 'Challenge', found {[s.label for s in at.selectbox]}"
        + (f"; the app showed {shown}" if shown else ""))
    return boxes[0]


# ---- cheap, pointed checks first: the read alone ------------------------------------------

def test_a_missing_database_raises_and_is_not_created(solution, tmp_path):
    folder = tmp_path / "nothing"
    folder.mkdir()
    try:
        solution.load_benchmarks(folder / "progress.db")
        raised = None
    except Exception as exc:  # noqa: BLE001 (any other error is the wrong one)
        raised = exc
    assert not any(folder.iterdir()), (
        f"load_benchmarks created {sorted(p.name for p in folder.iterdir())} for a missing "
        "database (sqlite3.connect(path) and Store(path) create one): check the file first")
    if not isinstance(raised, FileNotFoundError):
        pytest.fail("load_benchmarks of a missing file must raise FileNotFoundError, got "
                    f"{type(raised).__name__ if raised else 'no error'}: {raised}",
                    pytrace=False)


@pytest.mark.parametrize("as_str", [False, True], ids=["Path", "str"])
def test_load_benchmarks_reads_every_record_read_only(solution, built, tmp_path, as_str):
    path = fresh(built, "full", tmp_path)
    before = snapshot(path.parent)
    table = solution.load_benchmarks(str(path) if as_str else path)
    unchanged(path.parent, before, "load_benchmarks")
    assert isinstance(table, pd.DataFrame), (
        f"load_benchmarks must return a pandas DataFrame, got {type(table).__name__}")
    assert list(table.columns) == COLUMNS, (
        f"load_benchmarks' columns are {list(table.columns)}, expected {COLUMNS}")
    got, want = table.to_dict("records"), records()
    for i, (g, w) in enumerate(zip(got, want, strict=False)):
        same = all(close(g[c], w[c]) if c == "value" else g[c] == w[c] for c in COLUMNS)
        if not same:
            pytest.fail(f"load_benchmarks row {i} is {g}, expected {w} (every record of "
                        "every attempt, in the order recorded: ORDER BY id)", pytrace=False)
    assert len(got) == len(want), (
        f"load_benchmarks gave {len(got)} rows, expected {len(want)} (every record of every "
        "attempt, not only the newest attempt's)")


def test_load_benchmarks_of_a_database_without_records(solution, built, tmp_path):
    path = fresh(built, "empty", tmp_path)
    before = snapshot(path.parent)
    table = solution.load_benchmarks(path)
    unchanged(path.parent, before, "load_benchmarks")
    assert isinstance(table, pd.DataFrame) and len(table) == 0, (
        f"load_benchmarks of a database without records must give an empty DataFrame, got "
        f"{table!r}")
    assert list(table.columns) == COLUMNS, (
        f"the empty DataFrame must still have the columns {COLUMNS}, got {list(table.columns)}")


def test_load_benchmarks_opens_the_database_read_only(solution, built, tmp_path, monkeypatch):
    """A read-write connection that only reads changes nothing on disk, so each connection
    load_benchmarks opens with sqlite3.connect is probed: a write on it must be refused."""
    import sqlite3

    path = fresh(built, "full", tmp_path)
    real, writable = sqlite3.connect, []

    def probed(*args, **kwargs):
        conn = real(*args, **kwargs)
        try:
            conn.execute("DELETE FROM benchrecord WHERE 0")  # deletes nothing, then rolled back
            conn.rollback()
            writable.append(args[0] if args else kwargs.get("database"))
        except sqlite3.OperationalError:
            pass  # "attempt to write a readonly database": what mode=ro gives
        return conn

    monkeypatch.setattr(sqlite3, "connect", probed)
    before = snapshot(path.parent)
    solution.load_benchmarks(path)
    monkeypatch.undo()
    unchanged(path.parent, before, "load_benchmarks")
    if writable:
        pytest.fail(f"load_benchmarks opened {writable[0]!r} read-write: a write on its "
                    "connection was accepted. Open it read-only: sqlite3.connect("
                    "f'{path.resolve().as_uri()}?mode=ro', uri=True)", pytrace=False)


# ---- the page -----------------------------------------------------------------------------

def test_the_page_shows_the_first_challenge(app, built, tmp_path):
    path = fresh(built, "full", tmp_path)
    at = app(path)
    refresh = [b for b in at.button if b.label == "Refresh"]
    assert len(refresh) == 1, (
        f"expected one st.button labelled 'Refresh', found {[b.label for b in at.button]}")
    assert select_box(at).value == "day089", (
        f"the 'Challenge' selectbox starts at {select_box(at).value!r}; it must start at the "
        "first option, day089")
    check_view(at, "day089")


def test_choosing_a_challenge_shows_its_history(app, built, tmp_path):
    path = fresh(built, "full", tmp_path)
    at = app(path)
    select_box(at).set_value("day105")
    check_view(run(at, path, "the app after choosing day105"), "day105")


def test_new_records_show_after_a_rerun_and_after_refresh(app, built, tmp_path):
    path = fresh(built, "full", tmp_path)
    at = app(path)
    select_box(at).set_value("day105")
    check_view(run(at, path, "the app after choosing day105"), "day105")
    for step, how in enumerate(("a plain rerun", "a click on Refresh"), start=1):
        mtime = path.stat().st_mtime_ns
        bench_db.record(path, LATER[step - 1:step])  # the grader's write, as a grade makes it
        if path.stat().st_mtime_ns == mtime:  # a coarse clock: make the change visible
            os.utime(path, ns=(mtime + 10**6, mtime + 10**6))
        if step == 1:
            run(at, path, "the app rerun after new records")
        else:
            refresh = [b for b in at.button if b.label == "Refresh"]
            assert refresh, "no st.button labelled 'Refresh'"
            refresh[0].click()
            run(at, path, "the app after a click on Refresh")
            chosen = select_box(at).value
            assert chosen == "day105", (
                f"after a click on Refresh brought a new challenge (day110), the 'Challenge' "
                f"selectbox shows {chosen!r}; day105 was chosen and must stay chosen: give the "
                "selectbox a key (key='challenge') — without one, new options make it a new "
                "widget, back at the first option")
        check_view(at, "day105", ATTEMPTS + LATER[:step], when=f" after {how}")


def test_a_database_without_records_gives_a_message(app, built, tmp_path):
    path = fresh(built, "empty", tmp_path)
    at = app(path)
    messages = [m.value for m in (*at.warning, *at.error, *at.info)]
    assert messages, ("with a database without benchmark records the app must show "
                      "st.warning (or st.info/st.error), and it showed none")
    shown = len(at.dataframe) + len(at.get("vega_lite_chart")) + len(at.metric)
    assert shown == 0, (f"with no records the app must show no table, chart or metric (found "
                        f"{shown}): stop after the message")


@pytest.mark.parametrize("unset", [False, True], ids=["missing file", "variable unset"])
def test_a_missing_database_gives_an_error_and_is_not_created(app, tmp_path, unset):
    folder = tmp_path / "none"
    folder.mkdir()
    path = folder / "progress.db"
    at = app(None if unset else path)
    assert at.error, (f"with {'MLTRACK_DB unset' if unset else 'a missing progress.db'} the "
                      "app must show st.error")
    if not unset:
        assert any(str(path) in e.value for e in at.error), (
            f"the error must name the path {str(path)!r}; it says {[e.value for e in at.error]}")
    assert not any(folder.iterdir()), (
        f"the app created {sorted(p.name for p in folder.iterdir())} where progress.db was "
        "missing: a viewer never creates the database")
    shown = len(at.dataframe) + len(at.get("vega_lite_chart")) + len(at.metric)
    assert shown == 0, f"with no database the app must show no table, chart or metric ({shown})"

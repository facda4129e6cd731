"""Day 115 grader: the learner's Streamlit dashboard, driven by Streamlit's own test harness
(streamlit.testing.v1.AppTest) on a results file the grader writes.

The figures are drawn from a seeded generator, so a dashboard can only show them by reading
the file. Every element is compared with the grader's own reading of that file: the table's
rows, the chart's data (decoded from the Vega-Lite spec Streamlit sends to the browser), the
two metrics and the batch-size filter; then a missing, an empty and a header-only file."""

import math
import os

import numpy as np
import pandas as pd
import pytest

from graders.apptest import chart_frames, fail_on_exception, metric

ENV = "MLTRACK_RESULTS"
COLUMNS = ["backend", "batch", "p50_ms", "p99_ms", "throughput"]
SHOWN = ["backend", "p50_ms", "p99_ms", "throughput"]
BACKENDS = ["eager", "torch.compile", "onnxruntime", "tvm"]
BATCHES = [1, 8, 32]  # as strings "1" < "32" < "8": the options must be sorted as numbers
SEED = 115
REL = 1e-9  # figures as written with repr(): parsing is the only rounding
RUN_S = 10  # one run of the app in the harness


def results_table() -> pd.DataFrame:
    """The grader's results, in the (shuffled) order of the file. At batch 8 two backends tie
    for the fastest; at batch 32 there is no eager row (no speed-up to show)."""
    rng = np.random.default_rng(SEED)
    rows = []
    for batch in BATCHES:
        for backend in BACKENDS:
            if batch == 32 and backend == "eager":
                continue
            p50 = float(rng.uniform(0.2, 3.0) * (1 + batch / 8))
            rows.append({"backend": backend, "batch": batch, "p50_ms": p50,
                         "p99_ms": p50 * float(rng.uniform(1.2, 2.5)),
                         "throughput": batch * 1e3 / p50})
    tie = 0.5 * min(r["p50_ms"] for r in rows if r["batch"] == 8)
    for r in (r for r in rows if r["batch"] == 8 and r["backend"] in ("onnxruntime", "tvm")):
        r["p50_ms"], r["throughput"] = tie, 8e3 / tie
    order = rng.permutation(len(rows))
    return pd.DataFrame([rows[i] for i in order], columns=COLUMNS).reset_index(drop=True)


TABLE = results_table()


def oracle_summary(batch: int) -> dict:
    rows = [r for r in TABLE.to_dict("records") if r["batch"] == batch]
    best = min(rows, key=lambda r: r["p50_ms"])  # min keeps the first of equal minima
    eager = [r for r in rows if r["backend"] == "eager"]
    return {"fastest": best["backend"],
            "speedup": eager[0]["p50_ms"] / best["p50_ms"] if eager else None}


def batch_rows(batch: int) -> list[dict]:
    return [{k: r[k] for k in SHOWN} for r in TABLE.to_dict("records") if r["batch"] == batch]


def close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    try:
        return math.isclose(float(a), float(b), rel_tol=REL, abs_tol=0.0)
    except (TypeError, ValueError):
        return False


@pytest.fixture(scope="module")
def results_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "results-115.csv"
    with path.open("w") as f:  # repr: the shortest text that reads back to the same float
        f.write(",".join(COLUMNS) + "\n")
        for r in TABLE.to_dict("records"):
            f.write(",".join(repr(r[c]) if isinstance(r[c], float) else str(r[c])
                             for c in COLUMNS) + "\n")
    return path


@pytest.fixture
def app(solution_dir, monkeypatch):
    """A fresh harness on the learner's solution.py; the caller sets MLTRACK_RESULTS."""
    from streamlit.testing.v1 import AppTest

    def start(results_path):
        if results_path is None:
            monkeypatch.delenv(ENV, raising=False)
        else:
            monkeypatch.setenv(ENV, str(results_path))
        return run(AppTest.from_file(str(solution_dir / "solution.py"), default_timeout=RUN_S))

    return start


def run(at, what="the app"):
    """Run (or rerun) the app; an exception inside the script is the learner's verdict."""
    at.run()
    fail_on_exception(at, what, "a dashboard")
    return at


def chart_data(at) -> pd.DataFrame:
    """The data of the chart that plots p50_ms by backend."""
    frames = chart_frames(at)
    for spec, frame in frames:
        if {"backend", "p50_ms"} <= set(frame.columns) and '"p50_ms"' in spec:
            return frame
    seen = [sorted(map(str, frame.columns)) for _, frame in frames]
    pytest.fail(f"no chart plots p50_ms by backend: the app has {len(seen)} chart dataset(s) "
                f"with columns {seen}; draw one from the table's rows, e.g. "
                "st.bar_chart(rows, x='backend', y='p50_ms')", pytrace=False)


def check_view(at, batch: int) -> None:
    """Table, chart and metrics of the dashboard show `batch`'s rows, and only them."""
    want = batch_rows(batch)
    assert len(at.dataframe) == 1, (
        f"batch {batch}: expected one st.dataframe (the results table), found "
        f"{len(at.dataframe)}")
    table = at.dataframe[0].value
    missing = [c for c in SHOWN if c not in table.columns]
    assert not missing, (
        f"batch {batch}: the table lacks the column(s) {missing}; it must show {SHOWN}")
    got = table[SHOWN].to_dict("records")
    if len(got) != len(want) or any(
            g["backend"] != w["backend"] or not all(close(g[c], w[c]) for c in SHOWN[1:])
            for g, w in zip(got, want, strict=False)):
        pytest.fail(f"batch {batch}: the table shows {len(got)} row(s) "
                    f"{[g['backend'] for g in got]}; expected the file's {len(want)} row(s) of "
                    f"batch {batch}, in file order: {[w['backend'] for w in want]} with their "
                    "p50_ms, p99_ms and throughput unchanged", pytrace=False)
    frame = chart_data(at)
    pairs = sorted((str(b), float(v)) for b, v in zip(frame["backend"], frame["p50_ms"],
                                                      strict=True))
    expected = sorted((w["backend"], w["p50_ms"]) for w in want)
    if len(pairs) != len(expected) or any(
            g[0] != w[0] or not close(g[1], w[1]) for g, w in zip(pairs, expected,
                                                                 strict=False)):
        hint = (" — the chart is drawn from every batch: draw it from the filtered rows"
                if len(pairs) == len(TABLE) else "")
        pytest.fail(f"batch {batch}: the chart's data is {pairs}; it must equal the table's "
                    f"(backend, p50_ms) pairs {expected}{hint}", pytrace=False)
    summary = oracle_summary(batch)
    fastest = metric(at, "Fastest backend")
    assert fastest == summary["fastest"], (
        f"batch {batch}: 'Fastest backend' shows {fastest!r}, expected "
        f"{summary['fastest']!r} (the smallest p50_ms; the first in file order on a tie)")
    speedup = metric(at, "Speed-up vs eager")
    want_text = "-" if summary["speedup"] is None else f"{summary['speedup']:.2f}x"
    assert speedup == want_text, (
        f"batch {batch}: 'Speed-up vs eager' shows {speedup!r}, expected {want_text!r} (eager's "
        "p50_ms / the fastest's, as f'{s:.2f}x'; '-' when the batch has no eager row)")


# ---- cheap, pointed checks first ----------------------------------------------------------

@pytest.mark.parametrize("batch", BATCHES)
def test_summarise(solution, batch):
    table = TABLE.copy()
    got = solution.summarise(table, batch)
    want = oracle_summary(batch)
    assert table.equals(TABLE), f"summarise(table, {batch}) modified the table it was given"
    assert isinstance(got, dict) and set(got) == {"fastest", "speedup"}, (
        f"summarise must return a dict with the keys 'fastest' and 'speedup', got {got!r}")
    rows = [r for r in TABLE.to_dict("records") if r["batch"] == batch]
    if got["fastest"] != want["fastest"]:
        slowest = max(rows, key=lambda r: r["p50_ms"])["backend"]
        tied = [r["backend"] for r in rows if r["p50_ms"] == min(x["p50_ms"] for x in rows)]
        hint = (" — that is the slowest: fastest means the smallest p50_ms"
                if got["fastest"] == slowest else
                f" — {tied} tie: take the first in table order" if got["fastest"] in tied
                else "")
        pytest.fail(f"summarise(table, {batch})['fastest'] is {got['fastest']!r}, expected "
                    f"{want['fastest']!r}{hint}", pytrace=False)
    if not close(got["speedup"], want["speedup"]):
        hint = ""
        if want["speedup"] is None:
            hint = " — this batch has no eager row: the speed-up is None"
        elif got["speedup"] is not None and close(got["speedup"], 1 / want["speedup"]):
            hint = " — that is inverted: eager's p50_ms / the fastest's (>= 1)"
        pytest.fail(f"summarise(table, {batch})['speedup'] is {got['speedup']!r}, expected "
                    f"{want['speedup']!r}{hint}", pytrace=False)


def test_importing_the_module_draws_nothing(solution_dir, monkeypatch):
    """The grader imports solution.py to call summarise: the page is drawn only when the file
    runs as __main__ (with MLTRACK_RESULTS unset, any main() would start with st.error)."""
    import importlib.util

    import streamlit as st

    monkeypatch.delenv(ENV, raising=False)
    drawn = []
    for name in ("error", "warning", "info", "selectbox", "metric", "dataframe", "bar_chart",
                 "line_chart", "altair_chart", "vega_lite_chart", "columns"):
        monkeypatch.setattr(st, name, lambda *a, _name=name, **k: drawn.append(_name))
    spec = importlib.util.spec_from_file_location("solution_imported", solution_dir /
                                                  "solution.py")
    try:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    except Exception as exc:  # noqa: BLE001 (a page drawn with stand-ins may trip over them)
        drawn.append(f"then raised {type(exc).__name__}")
    assert not drawn, (
        f"importing solution.py drew {drawn}: call main() only under "
        "`if __name__ == \"__main__\":`, so that the module imports without drawing anything")


def test_summarise_of_an_absent_batch_raises(solution):
    with pytest.raises(ValueError):
        solution.summarise(TABLE.copy(), 4)
        pytest.fail("summarise(table, 4) must raise ValueError: no row has batch 4",
                    pytrace=False)


def test_the_dashboard_shows_the_smallest_batch_first(app, results_csv):
    at = app(results_csv)
    boxes = [s for s in at.selectbox if s.label == "Batch size"]
    shown = [m.value for m in (*at.error, *at.warning)]
    assert len(boxes) == 1, (
        f"expected one st.selectbox labelled 'Batch size', found the selectboxes "
        f"{[s.label for s in at.selectbox]}" + (
            f"; the app showed {shown} for the file MLTRACK_RESULTS names ({results_csv}, a "
            "file with 11 rows): read the path from MLTRACK_RESULTS" if shown else ""))
    options = list(boxes[0].options)
    want = [str(b) for b in BATCHES]
    assert options == want, (
        f"the 'Batch size' options are {options}; expected {want}: the file's batch sizes as "
        "numbers, ascending" + (" (these are sorted as strings)" if options == sorted(want)
                                else ""))
    assert str(boxes[0].value) == "1", (
        f"the 'Batch size' filter starts at {boxes[0].value!r}; it must start at the smallest, 1")
    check_view(at, 1)


@pytest.mark.parametrize("batch", [8, 32])
def test_the_filter_changes_table_chart_and_metrics(app, results_csv, batch):
    at = app(results_csv)
    box = next((s for s in at.selectbox if s.label == "Batch size"), None)
    assert box is not None, "no st.selectbox labelled 'Batch size'"
    box.set_value(batch)
    check_view(run(at, f"the app after choosing batch {batch}"), batch)


@pytest.mark.parametrize("content", [None, "unset", "", ",".join(COLUMNS) + "\n"],
                         ids=["missing file", "variable unset", "zero bytes", "header only"])
def test_no_results_gives_a_message_not_an_exception(app, tmp_path, content):
    path = tmp_path / "results.csv"
    if content not in (None, "unset"):
        path.write_text(content)
    what = {None: "a missing results file", "unset": "MLTRACK_RESULTS unset",
            "": "an empty (zero-byte) results file"}.get(content,
                                                         "a results file with a header only")
    at = app(None if content == "unset" else path)
    messages = [e.value for e in at.error] + [w.value for w in at.warning]
    assert messages, (
        f"with {what} the app must show st.error or st.warning, and it showed neither")
    if content in (None, "unset"):
        assert at.error, f"with {what} the app must show st.error (it showed {messages})"
    if content is None:
        assert any(str(path) in e.value for e in at.error), (
            f"the error for a missing file must name the path {str(path)!r}; the app showed "
            f"{messages}")
    shown = len(at.dataframe) + len(at.get("vega_lite_chart")) + len(at.metric)
    assert shown == 0, (
        f"with {what} the app must show no table, chart or metric (found {shown}): stop after "
        "the message")


def test_the_file_is_read_on_every_run(app, results_csv, tmp_path):
    """The path comes from MLTRACK_RESULTS each run: another file, other figures."""
    other = TABLE.copy()
    other["p50_ms"] = other["p50_ms"] * 3.0
    path = tmp_path / "other.csv"
    other.to_csv(path, index=False)  # pandas writes floats in full (round-trip) precision
    at = app(path)
    frame = chart_data(at)
    want = sorted(float(v) for v in other[other["batch"] == 1]["p50_ms"])
    got = sorted(float(v) for v in frame["p50_ms"])
    assert len(got) == len(want) and all(close(a, b) for a, b in zip(got, want, strict=True)), (
        f"with MLTRACK_RESULTS={os.fspath(path)!r} the chart shows p50_ms {got}, expected "
        f"{want}: read the file MLTRACK_RESULTS names when the script runs (no fixed path, "
        "no figures kept from an earlier file)")

"""Day 107 grader: the learner's benchmark report against the grader's own construction.

The grader writes a fresh progress.db with mltrack's Store (the same `record_attempt` a grade
uses): nine attempts of five challenges, some without benchmarks, some failed, interleaved so
that the newest attempt of a challenge is not the newest attempt overall. Every row, the
`missing` list, the milliseconds, the speed-ups and the markdown are compared with what the
grader knows it wrote; the file and its folder are compared byte for byte before and after."""

import hashlib
import math
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from graders.data import bench_db

MACHINE = {"fingerprint": "107107107107107f", "class": {"id": "x86-cpu"},
           "summary": "x86-cpu: the grader's made-up CPU", "cpu": {"model": "grader CPU"}}
ROW_KEYS = {"challenge", "attempt_id", "name", "kind", "value", "unit", "ms", "speedup",
            "verdict", "hw_class"}
REL = 1e-12  # ms and speed-ups: float rounding only

# (challenge, attempt verdict, [(name, kind, value, unit, bench verdict, hw_class)]), in the
# order they are recorded: attempt ids 1..9
ATTEMPTS = [
    ("day105", "failed", [("matmul untuned", "measure", 0.020, "s", "", "x86-cpu"),
                          ("matmul tuned", "measure", 0.010, "s", "FAIL", "x86-cpu"),
                          ("tuned vs untuned", "compare", 2.0, "x", "FAIL", "x86-cpu")]),
    ("day089", "passed", [("searched cnn", "measure", 0.0031, "s", "", "x86-cpu"),
                          ("searched vs widest", "compare", 1.75, "x", "PASS", "x86-cpu")]),
    ("day105", "passed", [("matmul untuned", "measure", 0.0125, "s", "", "x86-cpu"),
                          ("matmul tuned", "measure", 0.004, "s", "PASS", "x86-cpu"),
                          ("tuned vs untuned", "compare", 3.05, "x", "INCONCLUSIVE", "x86-cpu")]),
    ("day093", "passed", [("fp32", "measure", 0.0062, "s", "", "x86-cpu"),
                          ("int8 dynamic", "measure", 0.0041, "s", "PASS", "x86-cpu")]),
    ("day089", "failed", []),  # an attempt that crashed before its benchmarks
    ("day097", "passed", [("predictor", "measure", 0.0009, "s", "PASS", "x86-cpu")]),
    ("day093", "failed", [("int8 dynamic", "measure", 0.0032, "s", "FAIL", "arm-cpu"),
                          ("fp32", "measure", 0.0064, "s", "", "arm-cpu"),
                          ("mixed", "measure", 0.0048, "s", "FAIL", "arm-cpu")]),
    ("day105", "failed", []),
    ("day106", "failed", []),  # attempted, never benchmarked: missing from the report
]
REQUEST = ["day105", "day089", "day093", "day095", "day106"]
BASELINES = {"day105": "matmul untuned", "day093": "fp32"}
NEWEST = {"day105": 3, "day089": 2, "day093": 7}  # the attempt each report row must come from
MISSING = ["day095", "day106"]


def expected_rows(request=REQUEST, baselines=BASELINES) -> list[dict]:
    rows = []
    for challenge in request:
        if challenge not in NEWEST:
            continue
        benches = ATTEMPTS[NEWEST[challenge] - 1][2]
        base = {name: value for name, _, value, unit, _, _ in benches if unit == "s"}
        base_s = base[baselines[challenge]] if challenge in baselines else None
        for name, kind, value, unit, verdict, hw in benches:
            speedup = value if unit == "x" else (base_s / value if base_s is not None else None)
            rows.append({"challenge": challenge, "attempt_id": NEWEST[challenge], "name": name,
                         "kind": kind, "value": value, "unit": unit,
                         "ms": value * 1e3 if unit == "s" else None, "speedup": speedup,
                         "verdict": verdict, "hw_class": hw})
    return rows


@pytest.fixture(scope="module")
def built_db(tmp_path_factory) -> Path:
    """progress.db as mltrack writes it, then switched from WAL to a rollback journal so that
    a read leaves no side files (and opening it with Store, which switches it back, shows)."""
    path = tmp_path_factory.mktemp("built") / "progress.db"
    ticks = iter(datetime(2026, 12, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=m)
                 for m in range(1000))
    bench_db.record(path, ATTEMPTS, machine=MACHINE, clock=lambda: next(ticks))
    return path


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def db(built_db, tmp_path) -> Path:
    """A fresh copy of the built database, alone in its folder."""
    path = tmp_path / "learner" / "progress.db"
    path.parent.mkdir()
    shutil.copy2(built_db, path)
    return path


def run_collect(solution, db, *args, **kwargs):
    """collect(...) on `db`, with the check that nothing in its folder changed."""
    before = snapshot(db.parent)
    report = solution.collect(*args, **kwargs)
    after = snapshot(db.parent)
    if after != before:
        new = sorted(set(after) - set(before))
        changed = sorted(k for k in before if after.get(k) != before[k])
        pytest.fail(f"collect modified the database's folder: new files {new or 'none'}, "
                    f"changed {changed or 'none'} — open progress.db read-only "
                    "(Readout.read, or sqlite3 with mode=ro), never with Store, which "
                    "migrates it and switches its journal mode", pytrace=False)
    return report


def report_of(solution, db, request=REQUEST, baselines=BASELINES) -> dict:
    report = run_collect(solution, db, str(db), list(request), dict(baselines))
    assert isinstance(report, dict) and set(report) == {"rows", "missing"}, (
        f"collect must return a dict with the keys 'rows' and 'missing', got "
        f"{sorted(report) if isinstance(report, dict) else type(report).__name__}")
    assert isinstance(report["rows"], list) and isinstance(report["missing"], list), (
        "report['rows'] and report['missing'] must be lists")
    for i, row in enumerate(report["rows"]):
        assert isinstance(row, dict) and set(row) == ROW_KEYS, (
            f"rows[{i}] must be a dict with exactly the keys {sorted(ROW_KEYS)}, got "
            f"{sorted(row) if isinstance(row, dict) else type(row).__name__}")
    return report


def close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return (isinstance(a, float | int) and not isinstance(a, bool)
            and math.isclose(a, b, rel_tol=REL, abs_tol=0.0))


def show(rows) -> str:
    return "; ".join(f"{r.get('challenge')}/{r.get('name')} (attempt {r.get('attempt_id')})"
                     for r in rows)


# ---- cheap, pointed checks first ----------------------------------------------------------

def test_a_missing_database_raises_and_is_not_created(solution, tmp_path):
    path = tmp_path / "nothing" / "progress.db"
    path.parent.mkdir()
    with pytest.raises(FileNotFoundError):
        solution.collect(path, ["day105"])
    assert not any(path.parent.iterdir()), (
        f"collect created {sorted(p.name for p in path.parent.iterdir())} for a missing "
        "database: a report reads, it never creates (Store(path) makes a fresh progress.db)")
    folder = tmp_path / "a-folder"  # exists, but is not a file
    folder.mkdir()
    try:
        solution.collect(folder, ["day105"])
        raised = None
    except FileNotFoundError:
        raised = FileNotFoundError
    except Exception as exc:  # noqa: BLE001 (any other error is the wrong one)
        raised = type(exc)
    if raised is not FileNotFoundError:
        pytest.fail(f"collect(a folder, ...) must raise FileNotFoundError, got "
                    f"{raised.__name__ if raised else 'no error'}: the path exists but is not "
                    "a file (test Path(db_path).is_file(), not exists())", pytrace=False)
    assert not any(folder.iterdir()), "collect created files in a folder given as db_path"


def test_a_file_that_is_not_a_progress_db_raises_value_error(solution, tmp_path):
    path = tmp_path / "odd" / "progress.db"
    path.parent.mkdir()
    path.write_bytes(b"this is not an SQLite database\n" * 8)
    before = snapshot(path.parent)
    with pytest.raises(ValueError):
        solution.collect(path, ["day105"])
        pytest.fail("collect on a file that is not a progress.db must raise ValueError "
                    "(Readout.read gives None for it)", pytrace=False)
    assert snapshot(path.parent) == before, "collect changed a file it could not read"


def test_the_database_is_opened_read_only_and_left_untouched(solution, db):
    run_collect(solution, db, db, REQUEST, BASELINES)  # a Path this time
    alone = run_collect(solution, db, str(db), ["day089"])  # baselines left at None
    want = expected_rows(["day089"], {})
    got = ([(r.get("name"), r.get("attempt_id"), r.get("speedup") is None)
            for r in alone.get("rows", [])] if isinstance(alone, dict) else alone)
    expected = [(r["name"], r["attempt_id"], r["speedup"] is None) for r in want]
    assert got == expected and alone.get("missing") == [], (
        f"collect(db, ['day089']) (no baselines) gave {alone!r}; expected the rows "
        f"{[r['name'] for r in want]} of attempt 2 (the time without a speed-up) and no "
        "missing challenge")


def test_each_challenge_reports_its_newest_attempt_with_benchmarks(solution, db):
    rows = report_of(solution, db)["rows"]
    for challenge, attempt in NEWEST.items():
        got = sorted({r["attempt_id"] for r in rows if r["challenge"] == challenge})
        if got == [attempt]:
            continue
        runs = [i + 1 for i, a in enumerate(ATTEMPTS) if a[0] == challenge]
        with_benches = [i for i in runs if ATTEMPTS[i - 1][2]]
        why = (" — that is its oldest attempt" if got == [with_benches[0]]
               else " — attempts are mixed: keep only the newest one" if len(got) > 1
               else " — that is its newest attempt, but it recorded no benchmarks: take the "
               "newest attempt that did" if got == [runs[-1]] or not got else "")
        pytest.fail(f"the rows of {challenge} come from attempt(s) {got or 'none'}; its "
                    f"attempts are {runs}, those with benchmarks {with_benches}, so the "
                    f"report must show attempt {attempt}{why}", pytrace=False)


def test_rows_hold_the_records_in_order(solution, db):
    rows, want = report_of(solution, db)["rows"], expected_rows()
    if [(r["challenge"], r["name"]) for r in rows] != [(r["challenge"], r["name"])
                                                        for r in want]:
        pytest.fail(f"the report's rows are [{show(rows)}]; expected [{show(want)}] — the "
                    "challenges in the order asked, each one's records oldest first",
                    pytrace=False)
    for got, row in zip(rows, want, strict=True):
        assert type(got["attempt_id"]) is int, (
            f"{row['challenge']}/{row['name']}: attempt_id must be an int, got "
            f"{type(got['attempt_id']).__name__}")
        for key in ("attempt_id", "kind", "unit", "verdict", "hw_class"):
            assert got[key] == row[key], (
                f"{row['challenge']}/{row['name']}: {key} is {got[key]!r}, the record says "
                f"{row[key]!r}")
        assert close(got["value"], row["value"]), (
            f"{row['challenge']}/{row['name']}: value is {got['value']!r}, the record says "
            f"{row['value']!r} (the value as stored, in its unit)")


def test_times_are_in_milliseconds(solution, db):
    rows, want = report_of(solution, db)["rows"], expected_rows()
    assert len(rows) == len(want), "the report has the wrong rows (see the check on rows)"
    for got, row in zip(rows, want, strict=True):
        what = f"{row['challenge']}/{row['name']}"
        if row["ms"] is None:
            assert got["ms"] is None, (
                f"{what} is a speed-up (unit 'x'): its ms must be None, got {got['ms']!r}")
        elif not close(got["ms"], row["ms"]):
            hint = (" — that is the stored value in seconds: multiply by 1000"
                    if close(got["ms"], row["value"]) else "")
            pytest.fail(f"{what}: ms is {got['ms']!r}, expected {row['ms']!r} "
                        f"({row['value']} s){hint}", pytrace=False)


def test_speedups_against_the_baselines(solution, db):
    rows, want = report_of(solution, db)["rows"], expected_rows()
    assert len(rows) == len(want), "the report has the wrong rows (see the check on rows)"
    for got, row in zip(rows, want, strict=True):
        what = f"{row['challenge']}/{row['name']}"
        if close(got["speedup"], row["speedup"]):
            continue
        hint = ""
        if row["speedup"] is not None and got["speedup"] not in (None, 0):
            if close(got["speedup"], 1 / row["speedup"]):
                hint = (" — that is inverted: speed-up = baseline time / this row's time "
                        "(> 1 means faster than the baseline)")
        if row["speedup"] is None:
            hint = (" — no baseline was given for this challenge and the row is a time: its "
                    "speed-up is None")
        pytest.fail(f"{what}: speedup is {got['speedup']!r}, expected {row['speedup']!r}{hint}",
                    pytrace=False)


def test_missing_challenges_are_listed(solution, db):
    report = report_of(solution, db)
    assert report["missing"] == MISSING, (
        f"missing is {report['missing']!r}; expected {MISSING!r}: the challenges asked for "
        "that have no benchmark record at all (day095 was never attempted; day106 was, "
        "without benchmarks), in the order asked")


def test_the_order_asked_and_no_baselines(solution, db):
    request = ["day106", "day093", "day105"]
    report = report_of(solution, db, request=request, baselines={})
    want = expected_rows(request, {})
    if [(r["challenge"], r["name"]) for r in report["rows"]] != [(r["challenge"], r["name"])
                                                                  for r in want]:
        pytest.fail(f"collect(db, {request}, {{}}) gave rows [{show(report['rows'])}]; "
                    f"expected [{show(want)}]", pytrace=False)
    speedups = [r["speedup"] for r in report["rows"]]
    assert all(close(a, r["speedup"]) for a, r in zip(speedups, want, strict=True)), (
        f"without baselines only the 'x' rows have a speed-up (their value); got {speedups}")
    assert report["missing"] == ["day106"], f"missing is {report['missing']!r}, not ['day106']"
    ignored = run_collect(solution, db, db, ["day095"], {"day095": "fp32"})
    assert ignored == {"rows": [], "missing": ["day095"]}, (
        f"collect(db, ['day095'], {{'day095': 'fp32'}}) must ignore the baseline of a "
        f"challenge without records and give {{'rows': [], 'missing': ['day095']}}, got "
        f"{ignored!r}")
    try:
        unasked = run_collect(solution, db, db, ["day089"], {"day097": "no such record"})
    except ValueError as exc:
        pytest.fail(f"collect(db, ['day089'], {{'day097': 'no such record'}}) raised "
                    f"ValueError ({exc}): the baseline of a challenge not asked for is ignored",
                    pytrace=False)
    assert [r["speedup"] is None for r in unasked["rows"]] == [True, False], (
        "collect(db, ['day089'], {'day097': 'no such record'}) must ignore the baseline of a "
        f"challenge not asked for (no ValueError, no speed-up on day089's time), got {unasked!r}")
    empty = run_collect(solution, db, db, [])
    assert empty == {"rows": [], "missing": []}, (
        f"collect(db, []) must give {{'rows': [], 'missing': []}}, got {empty!r}")


def test_an_unknown_baseline_raises(solution, db):
    for baselines, why in (({"day105": "matmul fast"}, "no record of that name"),
                           ({"day105": "tuned vs untuned"}, "a speed-up row, not a time")):
        with pytest.raises(ValueError):
            run_collect(solution, db, db, ["day105"], baselines)
            pytest.fail(f"collect(db, ['day105'], {baselines}) must raise ValueError: {why} "
                        "in day105's newest attempt", pytrace=False)


def oracle_markdown(rows, missing) -> str:
    lines = ["| challenge | attempt | benchmark | median | speed-up | verdict | hardware |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        median = "-" if r["ms"] is None else f"{r['ms']:.3f} ms"
        speedup = "-" if r["speedup"] is None else f"{r['speedup']:.2f}x"
        lines.append(f"| {r['challenge']} | {r['attempt_id']} | {r['name']} | {median} | "
                     f"{speedup} | {r['verdict'] or '-'} | {r['hw_class'] or '-'} |")
    lines.append(f"missing: {', '.join(missing) or 'none'}")
    return "\n".join(lines) + "\n"


# a report with empty cells: a record without a verdict on a machine of no known class
UNCLASSED = [{"challenge": "day099", "attempt_id": 12, "name": "spmm", "kind": "measure",
              "value": 0.0020625, "unit": "s", "ms": 2.0625, "speedup": None, "verdict": "",
              "hw_class": ""}]


@pytest.mark.parametrize("request_, missing", [(REQUEST, MISSING), (["day089"], []),
                                               (UNCLASSED, ["day095"])],
                         ids=["suite", "one day", "empty cells"])
def test_markdown_table(solution, request_, missing):
    # the grader's own report: the table alone is judged here
    rows = ([dict(r) for r in request_] if isinstance(request_[0], dict)
            else expected_rows(request_))
    report = {"rows": [dict(r) for r in rows], "missing": list(missing)}
    got = solution.to_markdown(report)
    want = oracle_markdown(rows, missing)
    assert isinstance(got, str), f"to_markdown must return a str, got {type(got).__name__}"
    if got != want:
        g, w = got.splitlines(), want.splitlines()
        if g == w:
            pytest.fail("to_markdown: the lines are right, but every line (the last included) "
                        "must end with exactly one '\\n'", pytrace=False)
        i = next((k for k, (a, b) in enumerate(zip(g, w, strict=False)) if a != b),
                 min(len(g), len(w)))
        pytest.fail(f"to_markdown: line {i + 1} is {g[i] if i < len(g) else '(none)'!r}, "
                    f"expected {w[i] if i < len(w) else '(none)'!r} ({len(g)} lines for "
                    f"{len(w)}; the text must end with one newline)", pytrace=False)
    assert report == {"rows": rows, "missing": missing}, "to_markdown modified its report"

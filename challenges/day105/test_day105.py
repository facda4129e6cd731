"""Day 105 grader: tuning a matrix multiply with TVM MetaSchedule on a bounded budget.

Oracles: numpy for the product; the tuning database itself for the budget, the seed and the
best candidate (the record with the lowest mean run time); TVM's own time_evaluator, run by
the grader in the same process, for the timings. Cheap checks come first: a wrong product
fails before anything is tuned.
"""

import math
import os

import numpy as np
import pytest

from graders.requires import Inconclusive, package

os.environ.setdefault("TVM_NUM_THREADS", "1")  # before tvm starts its thread pool

SIZES = (16, 48)  # 48: not a power of two, so no tiling assumption hides a wrong index
RTOL, ATOL = 1e-5, 1e-4  # float32 sums of up to 128 products of numbers in [0, 1)
SMALL_N, SMALL_TRIALS = 32, 6  # the budget and seed checks: a tune of ~0.5 s
REPORT_N, REPORT_TRIALS = 128, 16
TIME_RATIO = 3.0  # the learner's timings vs the grader's, same run, either way
NOISY = 1.5  # the grader's own timings of one module spread wider: too busy to compare
MIN_SPEEDUP = 3.0  # tuned vs untuned, the grader's own timings (measured here ~20-27x)


@pytest.fixture(scope="module")
def tvm():
    return package("tvm", "mltrack[tvm]")


@pytest.fixture(scope="module")
def target(tvm):
    from graders.data.tvm_tuning import TARGET

    return TARGET


def _inputs(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    return rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)


def _run(tvm, func, n: int) -> np.ndarray:
    a, b = _inputs(n)
    dev = tvm.cpu(0)
    out = tvm.runtime.tensor(np.zeros((n, n), dtype=np.float32), dev)
    try:
        func["main"](tvm.runtime.tensor(a, dev), tvm.runtime.tensor(b, dev), out)
    except Exception as exc:  # a buffer of another dtype or shape is refused at the call
        pytest.fail(f"calling main(A, B, C) with float32 ({n}, {n}) arrays raised "
                    f"{type(exc).__name__}: {str(exc)[:300]}", pytrace=False)
    return out.numpy()


def _check_product(tvm, func, n: int, what: str) -> None:
    a, b = _inputs(n)
    got, want = _run(tvm, func, n), a @ b
    if not np.allclose(got, want, rtol=RTOL, atol=ATOL):
        i, j = np.unravel_index(np.argmax(np.abs(got - want)), want.shape)
        pytest.fail(f"{what} (n={n}) computes C[{i},{j}] = {got[i, j]:.6g}, but (A @ B)[{i},{j}] "
                    f"= {want[i, j]:.6g} (rtol {RTOL}, atol {ATOL})", pytrace=False)


def _mean_s(record) -> float:
    return float(np.mean([float(s) for s in record.run_secs]))


def _traces(database) -> list[str]:
    return sorted(str(r.trace) for r in database.get_all_tuning_records())


def _grader_ms(tvm, func, n: int) -> float:
    a, b = _inputs(n, seed=0)
    dev = tvm.cpu(0)
    args = [tvm.runtime.tensor(x, dev) for x in (a, b, np.zeros((n, n), dtype=np.float32))]
    timer = func.time_evaluator("main", dev, number=10, repeat=5, min_repeat_ms=0)
    timer(*args)
    return float(np.median(timer(*args).results)) * 1e3


# ---- the workload -----------------------------------------------------------------------

@pytest.mark.parametrize("n", SIZES)
def test_matmul_module_computes_a_times_b(solution, tvm, target, n):
    mod = solution.matmul_module(n)
    assert isinstance(mod, tvm.IRModule), (
        f"matmul_module must return a tvm.IRModule, got {type(mod).__name__}")
    names = [gv.name_hint for gv in mod.get_global_vars()]
    assert names == ["main"], f"the module must hold one function named 'main', found {names}"
    params = [str(p) for p in mod["main"].params]
    assert len(params) == 3, f"main takes the buffers (A, B, C), found {params}"
    _check_product(tvm, tvm.compile(mod, target=target), n, "the untuned module")


# ---- tuning: the budget and the seed ------------------------------------------------------

@pytest.fixture(scope="module")
def small_tune(solution, tvm, tmp_path_factory):
    """(work_dir, database) of tuning the 32 x 32 matmul with 6 trials, seed 0."""
    work_dir = tmp_path_factory.mktemp("tune-seed0")
    return work_dir, solution.tune(solution.matmul_module(SMALL_N), str(work_dir),
                                   SMALL_TRIALS, 0)


def test_tune_measures_exactly_the_budget_and_keeps_its_database(small_tune):
    work_dir, database = small_tune
    records = database.get_all_tuning_records()
    assert len(records) == SMALL_TRIALS, (
        f"tune(..., trials={SMALL_TRIALS}) measured {len(records)} candidates: the budget is "
        f"max_trials_global={SMALL_TRIALS} (this space has more than {SMALL_TRIALS} candidates)")
    bad = [r for r in records if not r.run_secs or not all(
        math.isfinite(float(s)) and float(s) > 0 for s in r.run_secs)]
    assert not bad, f"{len(bad)} of the candidates were not measured (build or run errors)"
    files = sorted(p.name for p in work_dir.iterdir())
    assert "database_tuning_record.json" in files, (
        f"the tuning database must be written under work_dir; it holds {files}")


def test_the_same_seed_proposes_the_same_candidates_and_another_seed_others(
        solution, small_tune, tmp_path):
    _, first = small_tune
    mod = solution.matmul_module(SMALL_N)
    again = solution.tune(mod, str(tmp_path / "again"), SMALL_TRIALS, 0)
    assert _traces(again) == _traces(first), (
        "two tunings with seed=0 measured different candidates: pass the seed to tune_tir")
    other = solution.tune(mod, str(tmp_path / "other"), SMALL_TRIALS, 1)
    assert _traces(other) != _traces(first), (
        "seed=1 measured the same candidates as seed=0: the seed is not used")


# ---- the best candidate -------------------------------------------------------------------

def test_best_schedule_is_the_fastest_measured_candidate(solution, tvm, target, small_tune):
    _, database = small_tune
    mod = solution.matmul_module(SMALL_N)
    best = min(database.get_all_tuning_records(), key=_mean_s)
    want = tvm.s_tir.Schedule(mod)
    best.trace.apply_to_schedule(want, remove_postproc=False)
    sch = solution.best_schedule(database, mod)
    assert isinstance(sch, tvm.s_tir.Schedule), (
        f"best_schedule must return a tvm.s_tir.Schedule, got {type(sch).__name__}")
    if str(sch.trace) != str(want.trace):
        times = sorted(f"{_mean_s(r) * 1e6:.2f}" for r in database.get_all_tuning_records())
        pytest.fail("best_schedule did not return the candidate with the lowest mean run time "
                    f"(mean µs of the candidates: {', '.join(times)})", pytrace=False)
    _check_product(tvm, tvm.compile(sch.mod, target=target), SMALL_N, "the best schedule")


def test_best_schedule_takes_the_lowest_mean_of_the_measured_records(solution, tvm, small_tune):
    """Run times set by hand: the record with the lowest single time has a higher mean, and a
    record without run_secs (never measured) is skipped; measured by nobody: ValueError."""
    from tvm.s_tir import meta_schedule as ms

    _, database = small_tune
    mod = solution.matmul_module(SMALL_N)
    distinct = list({str(r.trace): r for r in database.get_all_tuning_records()}.values())
    assert len(distinct) >= 3, "the tuning proposed fewer than 3 distinct candidates"
    secs = [None, [1e-3, 9e-3, 9e-3], [3e-3, 3e-3, 3e-3]]  # means: -, 6.33 ms, 3 ms
    crafted, unmeasured = ms.database.MemoryDatabase(), ms.database.MemoryDatabase()
    for db, chosen in ((crafted, secs), (unmeasured, secs[:1])):
        workload = db.commit_workload(mod)
        for record, run_secs in zip(distinct, chosen, strict=False):
            db.commit_tuning_record(ms.database.TuningRecord(
                record.trace, workload, run_secs, record.target, record.args_info))
    want = tvm.s_tir.Schedule(mod)
    distinct[2].trace.apply_to_schedule(want, remove_postproc=False)
    try:
        sch = solution.best_schedule(crafted, mod)
    except Exception as exc:  # noqa: BLE001 (a None run_secs taken for a measurement)
        pytest.fail(f"best_schedule of a database with one record without run_secs raised "
                    f"{type(exc).__name__}: {exc} — skip the records that have no run_secs",
                    pytrace=False)
    if str(sch.trace) != str(want.trace):
        lowest = tvm.s_tir.Schedule(mod)
        distinct[1].trace.apply_to_schedule(lowest, remove_postproc=False)
        hint = (" — that is the record with the lowest single time (1 ms, mean 6.33 ms)"
                if str(sch.trace) == str(lowest.trace) else "")
        pytest.fail("with run_secs set to [1, 9, 9] ms and [3, 3, 3] ms (and one record "
                    "without run_secs), best_schedule must pick the lowest mean, [3, 3, 3] ms"
                    f"{hint}", pytrace=False)
    with pytest.raises(ValueError):
        solution.best_schedule(unmeasured, mod)
        pytest.fail("best_schedule of a database whose only record has no run_secs must raise "
                    "ValueError (no measured candidate)", pytrace=False)


def test_best_schedule_of_a_database_without_measurements_raises(solution, tvm):
    from tvm.s_tir import meta_schedule as ms

    with pytest.raises(ValueError):
        solution.best_schedule(ms.database.MemoryDatabase(), solution.matmul_module(SMALL_N))


# ---- timing -----------------------------------------------------------------------------

class _SetTimes:
    """A stand-in for a compiled module whose time_evaluator gives set per-call times."""

    RESULTS = (4e-3, 1e-3, 2e-3, 9e-3, 3e-3)  # median 3 ms; mean 3.8 ms, min 1 ms

    def __init__(self):
        self.calls = []  # ("main", None) for a direct call; ("timer", kwargs) for a timing

    def time_evaluator(self, func_name, dev, number=10, repeat=1, min_repeat_ms=0, **_):
        from tvm.runtime.module import BenchmarkResult

        def timer(*args):
            self.calls.append(("timer", {"number": number, "repeat": repeat,
                                         "min_repeat_ms": min_repeat_ms}))
            return BenchmarkResult(list(self.RESULTS))

        return timer

    def __getitem__(self, name):
        return lambda *args: self.calls.append(("main", None))

    def get_function(self, name, *_):
        return self[name]


def test_median_ms_is_the_median_of_the_repeats_in_milliseconds(solution, tvm):
    stub = _SetTimes()
    got = solution.median_ms(stub, 8, number=7, repeat=5)
    timings = [kw for what, kw in stub.calls if what == "timer"]
    assert any(kw == {"number": 7, "repeat": 5, "min_repeat_ms": 0} for kw in timings), (
        "median_ms(func, n, number=7, repeat=5) must time with func.time_evaluator('main', "
        "tvm.cpu(0), number=number, repeat=repeat, min_repeat_ms=0); its timings used "
        f"{timings or 'no time_evaluator call'}")
    assert len(stub.calls) >= 2, (
        "median_ms must warm up once before timing (a call of func['main'] or a first run of "
        "the timer), and it ran the module only once")
    want = 1e3 * sorted(_SetTimes.RESULTS)[2]
    if isinstance(got, float) and math.isclose(got, want, rel_tol=1e-9):
        return
    hint = next((h for scale, h in ((7, "the time of number=7 calls"), (1e-3, "seconds"))
                 if isinstance(got, float) and math.isclose(got, want * scale, rel_tol=1e-9)),
                "not the mean, the minimum, or seconds")
    pytest.fail(f"with per-call times {[t * 1e3 for t in _SetTimes.RESULTS]} ms, median_ms "
                f"gave {got!r}; expected their median, {want:g} ms, as a float ({hint}: one "
                "call, in milliseconds)", pytrace=False)


def _agrees(theirs_of, ours_of, what: str, tries: int = 3) -> tuple[bool, float, float]:
    """Whether a learner's timing falls within TIME_RATIO of the grader's, measured one after
    the other; retried, since a busy machine can slow one of the two (a figure in the wrong
    unit, or for `number` calls, is 10x-1000x off and fails every try). When it never agrees
    and the grader's own timings spread by more than NOISY, the machine is too busy to tell:
    inconclusive, not the learner's failure (the units and the median are checked exactly on
    a stand-in module above)."""
    seen = []
    for _ in range(tries):
        theirs, ours = theirs_of(), ours_of()
        seen.append(ours)
        if 1 / TIME_RATIO <= theirs / ours <= TIME_RATIO:
            return True, theirs, ours
    if max(seen) > NOISY * min(seen):
        raise Inconclusive(f"{what}: {theirs:.4g} ms against the grader's {min(seen):.4g}-"
                           f"{max(seen):.4g} ms for the same module: the machine is too busy "
                           "to compare timings; grade again when it is quieter")
    return False, theirs, ours


def test_median_ms_is_the_time_of_one_call_in_milliseconds(solution, tvm, target):
    n = 64
    func = tvm.compile(solution.matmul_module(n), target=target).mod
    first = solution.median_ms(func, n)
    assert isinstance(first, float), f"median_ms must return a float, got {type(first)}"
    ok, theirs, ours = _agrees(lambda: solution.median_ms(func, n),
                               lambda: _grader_ms(tvm, func, n), "median_ms")
    assert ok, (f"median_ms says {theirs:.4g} ms per call; the grader's time_evaluator measured "
                f"{ours:.4g} ms in the same run ({theirs / ours:.3g}x): one call, in "
                "milliseconds")


@pytest.fixture(scope="module")
def tuned_report(solution, tvm, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp("report")
    out = solution.report(n=REPORT_N, trials=REPORT_TRIALS, seed=0, work_dir=str(work_dir))
    return work_dir, out


def test_report_states_its_figures_consistently(tuned_report):
    _, out = tuned_report
    keys = {"n", "trials", "seed", "measured", "tuned_ms", "untuned_ms", "speedup"}
    assert isinstance(out, dict) and keys <= set(out), (
        f"report must return a dict with keys {sorted(keys)}, got "
        f"{sorted(out) if isinstance(out, dict) else type(out).__name__}")
    assert (out["n"], out["trials"], out["seed"]) == (REPORT_N, REPORT_TRIALS, 0), (
        "n, trials and seed must be the arguments report was given")
    assert out["measured"] == REPORT_TRIALS, (
        f"report measured {out['measured']} candidates for a budget of {REPORT_TRIALS}")
    assert out["speedup"] == pytest.approx(out["untuned_ms"] / out["tuned_ms"], rel=1e-9), (
        "speedup must be untuned_ms / tuned_ms (how many times faster the tuned module is)")


def test_tuned_module_is_faster_and_the_report_agrees_with_the_grader(
        solution, tvm, target, tuned_report, record_metric):
    from tvm.s_tir import meta_schedule as ms

    work_dir, out = tuned_report
    database = ms.database.JSONDatabase(work_dir=str(work_dir))
    records = database.get_all_tuning_records()
    assert len(records) == REPORT_TRIALS, (
        f"report's work_dir holds {len(records)} measured candidates, expected {REPORT_TRIALS}")
    mod = solution.matmul_module(REPORT_N)  # checked above; the module report tuned
    best = min(records, key=_mean_s)
    sch = tvm.s_tir.Schedule(mod)
    best.trace.apply_to_schedule(sch, remove_postproc=False)
    tuned = tvm.compile(sch.mod, target=target).mod
    untuned = tvm.compile(mod, target=target).mod
    _check_product(tvm, tuned, REPORT_N, "the best schedule in report's database")
    tuned_ms, untuned_ms = _grader_ms(tvm, tuned, REPORT_N), _grader_ms(tvm, untuned, REPORT_N)
    record_metric("tuned_ms", tuned_ms)
    record_metric("untuned_ms", untuned_ms)
    record_metric("speedup", untuned_ms / tuned_ms)
    assert untuned_ms / tuned_ms >= MIN_SPEEDUP, (
        f"the best of {REPORT_TRIALS} candidates runs in {tuned_ms:.4g} ms against "
        f"{untuned_ms:.4g} ms untuned: less than {MIN_SPEEDUP:g}x faster")
    for key, func in (("tuned_ms", tuned), ("untuned_ms", untuned)):
        ok, _, ours = _agrees(lambda: out[key], lambda: _grader_ms(tvm, func, REPORT_N),  # noqa: B023
                              f"report's {key}")
        assert ok, (f"report's {key} = {out[key]:.4g} ms, but the grader measured {ours:.4g} ms "
                    f"for the same module in the same run ({out[key] / ours:.3g}x)")

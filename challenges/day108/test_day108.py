"""Day 108 grader: capstone 2 as a reproducible package. The grader runs the learner's one
command twice (`python solution.py --seed 7 --out …`, at the same time, in subprocesses with
a timeout), then re-computes every non-timing figure itself (the accuracies with
graders.data.capstone2 and the learner's `prepare`, the bootstrap interval with its own
resampling from the recorded seed), checks that the re-run wrote identical figures, and
re-measures both timings with graders.bench in this process to hold the written ones to
stated ratios."""

import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import graders
from graders.data.capstone2 import (
    accuracy_of,
    baseline,
    changes,
    load_task,
    record_problems,
    state_of,
)
from graders.requires import Inconclusive

torch.set_num_threads(1)
SEED = 7
RUN_TIMEOUT_S = 60  # each run of the command (both run at once)
RESAMPLES = 200
KEYS = {"seed": int, "method": str, "python": str, "torch": str, "threads": int,
        "accuracy_baseline": float, "accuracy_prototype": float, "accuracy_drop_pt": float,
        "accuracy_ci": list, "baseline": dict, "prototype": dict, "speedup": float}
FIGURES = ("seed", "method", "python", "torch", "threads", "accuracy_baseline",
           "accuracy_prototype", "accuracy_drop_pt", "accuracy_ci")  # identical on a re-run
# written / re-measured: agree within AGREE (both ways), disagree beyond DISAGREE; in between
# a busy machine may be to blame: inconclusive (re-run), never a pass
AGREE, DISAGREE = 3.0, 10.0  # as day 83: two runs at once on a busy 2-core machine
MIN_SPEEDUP, MAX_DROP_PT = 1.2, 1.0
EXACT = 1e-12  # accuracies: fractions of 450, only float rounding apart
CLOSE = 1e-9  # the drop in points, the interval, the speed-up formula


@pytest.fixture(scope="module")
def runs(solution_dir, tmp_path_factory) -> dict:
    """The command, twice at once with the same seed: {"a": ..., "b": ...}, each a dict with
    the exit code, the results (None if no readable file) and the end of its output."""
    out = tmp_path_factory.mktemp("runs")
    root = str(Path(graders.__file__).resolve().parents[1])  # graders/ importable there too
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [root, os.environ.get("PYTHONPATH")])), "PYTHONWARNINGS": "ignore"}
    procs = {}
    for name in ("a", "b"):
        log = (out / f"{name}.log").open("wb")
        cmd = [sys.executable, "solution.py", "--seed", str(SEED), "--out",
               str(out / f"{name}.json")]
        procs[name] = (subprocess.Popen(cmd, cwd=solution_dir, env=env, stdout=log,
                                        stderr=subprocess.STDOUT), log)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    done = {}
    for name, (proc, log) in procs.items():
        try:
            code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        log.close()
        tail = (out / f"{name}.log").read_text(errors="replace")[-1500:]
        results, path = None, out / f"{name}.json"
        if path.is_file():
            try:
                results = json.loads(path.read_text())
            except ValueError as exc:
                results = f"not valid JSON ({exc})"
        done[name] = {"code": code, "results": results, "tail": tail}
    return done


def results_of(runs, name="a") -> dict:
    run = runs[name]
    what = f"`python solution.py --seed {SEED} --out FILE`"
    if run["code"] is None:
        pytest.fail(f"{what} did not finish within {RUN_TIMEOUT_S} s", pytrace=False)
    if run["code"] != 0:
        pytest.fail(f"{what} exited with code {run['code']}; its output ends:\n{run['tail']}",
                    pytrace=False)
    if run["results"] is None:
        pytest.fail(f"{what} exited 0 but wrote no results file at FILE (is there an "
                    "`if __name__ == '__main__':` entry that writes to --out?)", pytrace=False)
    if not isinstance(run["results"], dict):
        pytest.fail(f"{what} wrote a results file that is {run['results']}"
                    if isinstance(run["results"], str) else
                    f"the results file must hold a JSON object, not "
                    f"{type(run['results']).__name__}", pytrace=False)
    return run["results"]


def well_formed(runs, name="a") -> dict:
    res = results_of(runs, name)
    missing = sorted(set(KEYS) - set(res))
    assert not missing, f"the results file lacks the key(s) {missing}"
    for key, kind in KEYS.items():
        ok = isinstance(res[key], kind) and not isinstance(res[key], bool)
        if kind is float:
            ok = isinstance(res[key], float | int) and not isinstance(res[key], bool)
        assert ok, f"results[{key!r}] is {type(res[key]).__name__}, not {kind.__name__}"
    for side in ("baseline", "prototype"):
        problems = record_problems(res[side], name=f"results[{side!r}]")
        assert not problems, "; ".join(problems)
    ci = res["accuracy_ci"]
    assert len(ci) == 2 and all(isinstance(v, float | int) and not isinstance(v, bool)
                                for v in ci), (
        f"results['accuracy_ci'] must be [low, high], two numbers; got {ci!r}")
    return res


@pytest.fixture(scope="module")
def own(solution) -> dict:
    """The grader's own non-timing figures, with the learner's `prepare` in this process."""
    task = load_task()
    before = state_of(task.model)
    proto = solution.prepare(task.model, task.calib)
    changed = changes(task.model, before)
    base = baseline(load_task().model)
    return {"task": task, "proto": proto, "base": base, "changed": changed,
            "acc_base": accuracy_of(base, task.x_eval, task.y_eval),
            "acc_proto": accuracy_of(proto, task.x_eval, task.y_eval),
            "ci": intervals(proto, task)}


def intervals(proto, task) -> dict[int, list[float]]:
    """The spec's bootstrap interval of `proto` for seed 7 and (to name a mistake) seed 0."""
    with torch.inference_mode():
        correct = (proto(task.x_eval).argmax(1) == task.y_eval).double()
    found = {}
    for seed in (SEED, 0):
        idx = torch.randint(0, len(task.y_eval), (RESAMPLES, len(task.y_eval)),
                            generator=torch.Generator().manual_seed(seed))
        accs = correct[idx].mean(1).numpy()
        found[seed] = [float(np.percentile(accs, q)) for q in (2.5, 97.5)]
    return found


def check_interval(got, want: dict[int, list[float]], what: str) -> None:
    ok = (isinstance(got, list) and len(got) == 2
          and all(isinstance(g, float | int) and not isinstance(g, bool) for g in got))
    if ok and all(near(g, w, CLOSE) for g, w in zip(got, want[SEED], strict=True)):
        return
    why = ""
    if ok and all(near(g, w, CLOSE) for g, w in zip(got, want[0], strict=True)):
        why = " — that is the interval of seed 0: the --seed argument is ignored"
    pytest.fail(f"{what}: accuracy_ci is {got!r}; the grader's bootstrap (seed {SEED}, "
                f"{RESAMPLES} resamples) gives {want[SEED]!r}{why} — every random draw must "
                "come from the seed, as the spec's code draws it", pytrace=False)


def near(a, b, tol) -> bool:
    return math.isclose(a, b, rel_tol=0.0, abs_tol=tol)


@pytest.fixture(scope="module")
def in_process(solution, tmp_path_factory) -> dict:
    """`reproduce(FILE, 7)` called here, with the module's `prepare` replaced by one that
    mislabels every third image (the drop is then far from 0: points and fractions differ;
    with ~150 errors the bootstrap interval tells one stream of draws from another)
    and `torch.set_num_threads` watched (this process stays on one thread, so nothing runs
    oversubscribed): the prototype must only ever run after a call with 1."""
    original, real_set = solution.prepare, torch.set_num_threads
    state = {"threads": None, "runs": []}  # the last count reproduce set; the count per run

    def watched_set(n):
        state["threads"] = n
        real_set(n)

    def lossy_prepare(model, calib):
        fn = original(model, calib)

        def lossy(x):
            state["runs"].append(state["threads"])
            with torch.inference_mode():
                out = fn(x).clone()
                out[::3] = out[::3].roll(1, dims=1)
            return out

        return lossy

    aliases = [k for k, v in vars(solution).items() if v is real_set]  # from torch import ...
    path = tmp_path_factory.mktemp("in-process") / "results.json"
    solution.prepare, torch.set_num_threads = lossy_prepare, watched_set
    for k in aliases:
        setattr(solution, k, watched_set)
    try:
        solution.reproduce(str(path), SEED)
    finally:
        solution.prepare, torch.set_num_threads = original, real_set
        for k in aliases:
            setattr(solution, k, real_set)
        real_set(1)
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        pytest.fail(f"reproduce(FILE, {SEED}) called in the grader's process wrote no readable "
                    f"JSON to FILE ({exc})", pytrace=False)
    runs = list(state["runs"])
    task = load_task()
    return {"runs": runs, "results": results,
            "ci": intervals(lossy_prepare(task.model, task.calib), task)}


# ---- cheap, pointed checks first: reproduce in this process -------------------------------

def test_reproduce_sets_one_thread(in_process):
    runs = in_process["runs"]
    assert runs, "reproduce never ran the prototype that prepare returned"
    wrong = [n for n in runs if n != 1]
    if wrong:
        when = ("before any call of torch.set_num_threads" if wrong[0] is None
                else f"after torch.set_num_threads({wrong[0]})")
        pytest.fail(f"reproduce(FILE, {SEED}) ran the prototype {len(wrong)} time(s) {when}: "
                    "it must call torch.set_num_threads(1) first (every figure on one thread)",
                    pytrace=False)


def test_the_drop_is_in_points(in_process):
    res = in_process["results"]
    if not isinstance(res, dict) or not {"accuracy_baseline", "accuracy_prototype",
                                         "accuracy_drop_pt"} <= set(res):
        pytest.fail("reproduce's file lacks the accuracy keys (see the check on the command's "
                    "file)", pytrace=False)
    diff = res["accuracy_baseline"] - res["accuracy_prototype"]
    assert diff > 0.02, (
        "reproduce did not use the module's prepare: the grader replaced it with a prototype "
        f"that mislabels every third image, yet the file's accuracies differ by only {diff!r} "
        "(build the prototype with prepare(task.model, task.calib))")
    if not near(res["accuracy_drop_pt"], 100 * diff, CLOSE):
        hint = (" — that is a fraction: the drop is in points (× 100)"
                if near(res["accuracy_drop_pt"], diff, CLOSE) else "")
        pytest.fail(f"with a prototype that loses {100 * diff:.3g} points, reproduce wrote "
                    f"accuracy_drop_pt = {res['accuracy_drop_pt']!r}; expected 100 · (baseline "
                    f"− prototype accuracy) = {100 * diff!r}{hint}", pytrace=False)


def test_the_interval_of_the_swapped_prototype_follows_the_seed(in_process):
    # ~150 errors: an interval from another stream of draws (unseeded, another seed, numpy)
    # almost never equals this one, where the real prototype's 6 errors often coincide
    check_interval(in_process["results"].get("accuracy_ci"), in_process["ci"],
                   f"reproduce(FILE, {SEED}) with the swapped prototype")


def test_the_command_writes_its_results(runs):
    well_formed(runs)  # every key of its type, both records as day 85's, two interval ends


def test_the_seed_and_the_environment_are_recorded(runs):
    res = well_formed(runs)
    assert res["seed"] == SEED, f"results['seed'] is {res['seed']!r}; the command got --seed {SEED}"
    assert res["threads"] == 1, f"results['threads'] is {res['threads']!r}: run on one thread"
    assert res["torch"] == torch.__version__, (
        f"results['torch'] is {res['torch']!r}, but the command ran torch {torch.__version__}: "
        "write torch.__version__")
    assert res["python"] == platform.python_version(), (
        f"results['python'] is {res['python']!r}, not platform.python_version() = "
        f"{platform.python_version()!r}")
    assert res["method"].strip(), "results['method'] must say what the prototype does"


def test_prepare_keeps_the_model_and_gives_logits(own):
    assert not own["changed"], f"prepare modified the model it was given: {own['changed']}"
    out = own["proto"](own["task"].x_bench[:37])
    ok = isinstance(out, torch.Tensor) and out.dtype == torch.float32 and out.shape == (37, 10)
    assert ok, (
        "fn(x) for 37 images must be float32 logits of shape (37, 10), got "
        f"{getattr(out, 'dtype', type(out).__name__)} {tuple(getattr(out, 'shape', ()))}")
    assert not out.requires_grad, "fn(x) must run without autograd (its output requires grad)"


def test_the_accuracies_are_what_the_grader_measures(runs, own):
    res = well_formed(runs)
    assert near(res["accuracy_baseline"], own["acc_base"], EXACT), (
        f"results['accuracy_baseline'] is {res['accuracy_baseline']!r}; the baseline "
        f"(capstone2.baseline) scores {own['acc_base']!r} on the 450 test images (x_eval)")
    assert near(res["accuracy_prototype"], own["acc_proto"], EXACT), (
        f"results['accuracy_prototype'] is {res['accuracy_prototype']!r}; your prepare(model, "
        f"calib), run by the grader, scores {own['acc_proto']!r} on the 450 test images")
    want = 100 * (res["accuracy_baseline"] - res["accuracy_prototype"])
    assert near(res["accuracy_drop_pt"], want, CLOSE), (
        f"results['accuracy_drop_pt'] is {res['accuracy_drop_pt']!r}; 100 · (baseline − "
        f"prototype accuracy) of the same file is {want!r} (points, not a fraction)")


def test_the_bootstrap_interval_follows_the_seed(runs, own):
    check_interval(well_formed(runs)["accuracy_ci"], own["ci"], "the command's results")


def test_a_rerun_gives_identical_figures(runs):
    a, b = well_formed(runs, "a"), well_formed(runs, "b")
    differ = [k for k in FIGURES if a[k] != b[k]]
    if differ:
        pytest.fail(f"two runs of the command with --seed {SEED} wrote different non-timing "
                    f"figures: {', '.join(f'{k}: {a[k]!r} vs {b[k]!r}' for k in differ)} — "
                    "every random draw must come from the seed, as the spec's code draws it (a "
                    "re-run must reproduce them)",
                    pytrace=False)


def test_the_speedup_is_the_ratio_of_the_medians(runs):
    res = well_formed(runs)
    base, proto = res["baseline"]["median_ms"], res["prototype"]["median_ms"]
    want = base / proto
    if not math.isclose(res["speedup"], want, rel_tol=CLOSE):
        hint = (" — that is inverted: speed-up = baseline median / prototype median"
                if math.isclose(res["speedup"], proto / base, rel_tol=CLOSE) else "")
        pytest.fail(f"results['speedup'] is {res['speedup']!r}; the medians written give "
                    f"{base!r} / {proto!r} = {want!r}{hint}", pytrace=False)


def test_the_timings_agree_with_the_graders(runs, own, bench, record_metric):
    res = well_formed(runs)
    x = own["task"].x_bench
    options = {"timer": time.thread_time, "memory": False, "max_time_s": 0.5}
    mine = {"baseline": bench.measure(own["base"], x, name="fp32 eager", **options).median_s,
            "prototype": bench.measure(own["proto"], x, name="prototype", **options).median_s}
    again = mine["baseline"] / mine["prototype"]
    figures = [(f"results[{side!r}]['median_ms'] is {res[side]['median_ms']:.4g} ms; the grader "
                f"re-measured {seconds * 1e3:.4g} ms per call on x_bench (256 images, one "
                "thread, thread CPU time)", f"{side}_median_ratio",
                res[side]["median_ms"] / (seconds * 1e3)) for side, seconds in mine.items()]
    figures.append((f"results['speedup'] is {res['speedup']:.3g}×; the grader re-measured "
                    f"{again:.3g}×", "speedup_ratio", res["speedup"] / again))
    unsure = []
    for what, metric, ratio in figures:
        agree = 1 / AGREE <= ratio <= AGREE
        record_metric(metric, ratio, unit="x", target=f"within {1 / AGREE:.3g}–{AGREE:g}",
                      verdict="PASS" if agree else "")
        if agree:
            continue
        if not 1 / DISAGREE <= ratio <= DISAGREE:
            hint = (" — seconds written as milliseconds?" if 3e-4 < ratio < 3e-3 else
                    " — a whole block's time, not per call?" if ratio > DISAGREE else "")
            pytest.fail(f"{what}: a ratio of {ratio:.3g}, beyond the factor {DISAGREE:g} "
                        f"that a busy machine explains{hint}", pytrace=False)
        unsure.append(f"{what} ({ratio:.3g}×)")
    if unsure:
        raise Inconclusive(f"off by more than {AGREE:g}× but less than {DISAGREE:g}×: "
                           f"{'; '.join(unsure)} — a busy machine? re-run")


def test_the_prototype_is_worth_publishing(runs, record_metric):
    res = well_formed(runs)
    record_metric("speedup", res["speedup"], unit="x", target=f">= {MIN_SPEEDUP}")
    record_metric("accuracy_drop", res["accuracy_drop_pt"], unit="pt",
                  target=f"<= {MAX_DROP_PT}")
    assert res["speedup"] >= MIN_SPEEDUP, (
        f"the prototype is {res['speedup']:.3g}× the baseline's speed: capstone 2 needs "
        f">= {MIN_SPEEDUP}×")
    assert res["accuracy_drop_pt"] <= MAX_DROP_PT, (
        f"the prototype loses {res['accuracy_drop_pt']:.3g} points: at most {MAX_DROP_PT}")

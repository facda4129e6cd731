"""Day 78 grader: the learner profiles inference of the grader's trained GCN with
torch.profiler and writes a chrome trace. The grader parses the trace itself (valid events,
one marked span per inference, self times rebuilt from the event nesting), checks the
learner's top-ops table against that trace and against its own profile of the same model,
and, on an NVIDIA GPU only, looks for CUDA kernels in the trace and NVTX ranges under
Nsight Systems."""

import copy
import json
import os
import shutil
import subprocess
import sys
import warnings
from collections import defaultdict

import pytest
import torch
from torch.profiler import ProfilerActivity, profile

from graders import requires
from graders.data.citation_gcn import norm_adj, trained_gcn
from graders.data.citation_graph import load_citation_graph
from hardware.detect import available

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=UserWarning)
__warningregistry__: dict = {}
RUNS, TOP = 5, 5
MARK = "gnn_inference"


@pytest.fixture(scope="module")
def inputs():
    g = load_citation_graph()
    return trained_gcn(), g.x, norm_adj(g)


def load_trace(path) -> list[dict]:
    assert os.path.isfile(path), f"no trace file at {path}: export the chrome trace there"
    try:
        with open(path) as f:
            trace = json.load(f)
    except json.JSONDecodeError as e:
        pytest.fail(f"the trace at {path} is not valid JSON ({e})", pytrace=False)
    events = trace.get("traceEvents") if isinstance(trace, dict) else None
    assert isinstance(events, list) and events, (
        "a chrome trace is a JSON object with a non-empty 'traceEvents' list "
        "(prof.export_chrome_trace writes one)")
    return events


def complete_events(events, cat=None) -> list[dict]:
    out = []
    for e in events:
        if not isinstance(e, dict) or e.get("ph") != "X" or (cat and e.get("cat") != cat):
            continue
        ok = (isinstance(e.get("name"), str) and isinstance(e.get("ts"), int | float)
              and isinstance(e.get("dur"), int | float) and e["dur"] >= 0
              and "pid" in e and "tid" in e)
        assert ok, f"a complete ('X') trace event lacks a name, ts, dur ≥ 0, pid or tid: {e}"
        out.append(e)
    return out


def self_times(ops: list[dict]) -> tuple[dict, dict]:
    """Self time (µs) and count per op name: each event's duration minus its direct
    children's, nesting rebuilt per thread from the timestamps."""
    by_thread = defaultdict(list)
    for e in ops:
        by_thread[(e["pid"], e["tid"])].append(e)
    total, count = defaultdict(float), defaultdict(int)
    for events in by_thread.values():
        events.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack: list[dict] = []
        for e in events:
            while stack and stack[-1]["ts"] + stack[-1]["dur"] <= e["ts"]:
                stack.pop()
            total[e["name"]] += e["dur"]
            count[e["name"]] += 1
            if stack:
                total[stack[-1]["name"]] -= e["dur"]
            stack.append(e)
    return total, count


@pytest.fixture(scope="module")
def profiled(solution, inputs, tmp_path_factory):
    model, x, adj = inputs
    before = {k: v.clone() for k, v in model.state_dict().items()}
    path = tmp_path_factory.mktemp("trace") / "gnn_trace.json"
    rows = solution.profile_inference(model, x, adj, str(path), runs=RUNS)
    after = model.state_dict()
    changed = any(not torch.equal(before[k], after[k]) for k in before)
    return rows, path, changed


def test_the_trace_is_a_valid_chrome_trace(profiled):
    rows, path, changed = profiled
    assert not changed, "profile_inference changed the model's weights"
    assert not torch.autograd.profiler._is_profiler_enabled, (
        "the profiler is still running after profile_inference returned")
    events = load_trace(path)
    ops = complete_events(events, "cpu_op")
    assert any(e["name"].startswith("aten::") for e in ops), (
        "the trace has no aten:: operator events (cat 'cpu_op'): profile the CPU activity")


def test_one_marked_span_per_inference(profiled):
    _, path, _ = profiled
    marks = [e for e in complete_events(load_trace(path)) if e["name"] == MARK]
    assert len(marks) == RUNS, (
        f"the trace has {len(marks)} '{MARK}' spans, expected {RUNS} (runs={RUNS}): wrap each "
        f"profiled forward pass in record_function('{MARK}'), and keep the {2} warm-up passes "
        "outside the profiler")
    marks.sort(key=lambda e: e["ts"])
    for a, b in zip(marks, marks[1:], strict=False):
        assert a["ts"] + a["dur"] <= b["ts"] + 1e-3, f"the '{MARK}' spans overlap"
    outside = [e["name"] for e in complete_events(load_trace(path), "cpu_op")
               if e["name"].startswith("aten::") and not any(
                   m["tid"] == e["tid"] and m["ts"] <= e["ts"] + 1e-3
                   and e["ts"] + e["dur"] <= m["ts"] + m["dur"] + 1e-3 for m in marks)]
    assert not outside, (
        f"{len(outside)} operator events lie outside every '{MARK}' span (e.g. "
        f"{outside[0]}): run the warm-up passes before the profiler starts, and profile only "
        "the marked passes")


def test_table_comes_from_the_trace(profiled):
    rows, path, _ = profiled
    assert isinstance(rows, list) and len(rows) == TOP, (
        f"profile_inference must return a list of the top {TOP} ops, got "
        f"{type(rows).__name__} of length {len(rows) if isinstance(rows, list) else '—'}")
    for r in rows:
        assert isinstance(r, dict) and {"name", "self_cpu_us", "calls"} <= set(r), (
            f"each row is a dict with name, self_cpu_us and calls; got {r!r}")
        assert str(r["name"]).startswith("aten::"), (
            f"{r['name']!r} is not an operator: the table lists aten:: ops only (leave out "
            f"the '{MARK}' annotation and other user spans)")
    selfs = [float(r["self_cpu_us"]) for r in rows]
    assert selfs == sorted(selfs, reverse=True), (
        "the rows must be sorted by self time, largest first")
    total, count = self_times(complete_events(load_trace(path), "cpu_op"))
    for r in rows:
        name = r["name"]
        assert int(r["calls"]) == count.get(name, 0), (
            f"{name}: the table says {r['calls']} calls, the trace has {count.get(name, 0)}")
        want = total.get(name, 0.0)
        assert abs(float(r["self_cpu_us"]) - want) <= max(1.0, 0.01 * want), (
            f"{name}: the table says {float(r['self_cpu_us']):.1f} µs of self time, the trace "
            f"gives {want:.1f} µs (its duration minus its children's): report self time "
            "(self_cpu_time_total), not total time including the ops it calls")
    best = max((n for n in total if n.startswith("aten::")), key=lambda n: total[n])
    assert rows[0]["name"] == best, (
        f"by the trace's own self times the top op is {best} ({total[best]:.0f} µs), the table "
        f"starts with {rows[0]['name']}: sort by self time")


def test_arguments_eval_mode_and_no_grad_are_used(solution, inputs, tmp_path):
    # a copy in training mode, every forward call logged: how many, whether inside the
    # profiler, with gradients on or off, in which mode
    model, x, adj = inputs
    probe = copy.deepcopy(model).train()
    calls = []
    probe.register_forward_pre_hook(lambda m, _: calls.append(
        (torch.autograd.profiler._is_profiler_enabled, torch.is_grad_enabled(), m.training)))
    path = tmp_path / "trace.json"
    rows = solution.profile_inference(probe, x, adj, str(path), runs=3, warmup=1, top=3)
    profiled = [c for c in calls if c[0]]
    assert [c[0] for c in calls] == [False] + [True] * 3, (
        f"profile_inference(runs=3, warmup=1) made {len(calls) - len(profiled)} forward passes "
        f"outside the profiler and {len(profiled)} inside it; expected 1 warm-up pass, then 3 "
        "profiled ones (use the runs and warmup arguments)")
    assert not any(grad for _, grad, _ in calls), (
        "a forward pass ran with gradients enabled: run everything under torch.no_grad()")
    assert not any(training for *_, training in calls), (
        "a forward pass ran in training mode (dropout on): call model.eval() first")
    assert isinstance(rows, list) and len(rows) == 3, (
        f"profile_inference(top=3) returned {len(rows) if isinstance(rows, list) else rows!r} "
        "rows; the table has `top` rows")
    marks = [e for e in complete_events(load_trace(path)) if e["name"] == MARK]
    assert len(marks) == 3, f"runs=3 gave {len(marks)} '{MARK}' spans in the trace, expected 3"


def grader_profile(model, x, adj) -> list[tuple[str, float]]:
    with torch.no_grad():
        for _ in range(2):
            model(x, adj)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(RUNS):
                model(x, adj)
    ops = [e for e in prof.key_averages() if e.key.startswith("aten::")]
    ops.sort(key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in ops) or 1.0
    return [(e.key, e.self_cpu_time_total / total) for e in ops[:TOP]]


def test_top_ops_agree_with_the_graders_profile(profiled, inputs, record_metric):
    rows, _, _ = profiled
    shares = grader_profile(*inputs)
    mine = [name for name, _ in shares]
    theirs = [r["name"] for r in rows]
    record_metric("top op by self CPU time", float(rows[0]["self_cpu_us"]) / RUNS / 1000,
                  unit=f"ms per inference ({rows[0]['name']})")
    assert theirs[0] == mine[0], (
        f"the grader's profile of the same model puts {mine[0]} first by self CPU time, your "
        f"table puts {theirs[0]} first (grader's top {TOP}: {', '.join(mine)})")
    # the ops below 10 % of the self time are a few µs each: their order is timer noise
    heavy = [name for name, share in shares if share >= 0.10]
    missing = [name for name in heavy if name not in theirs]
    assert not missing, (
        f"the grader's profile gives {', '.join(missing)} at least 10 % of the self CPU time, "
        f"but your top {TOP} ({', '.join(theirs)}) lacks it")


GPU = available("nvidia-gpu")


def test_cuda_kernels_in_the_trace(solution, inputs, tmp_path):
    requires.hardware("nvidia-gpu", available=GPU[0] and torch.cuda.is_available(),
                      why=GPU[1] or "torch has no CUDA")
    model, x, adj = inputs
    gpu_model = copy.deepcopy(model).cuda()
    path = tmp_path / "gpu_trace.json"
    solution.profile_inference(gpu_model, x.cuda(), adj.cuda(), str(path), runs=RUNS)
    kernels = [e for e in complete_events(load_trace(path)) if e.get("cat") == "kernel"]
    assert kernels, ("the GPU trace has no CUDA kernel events: with CUDA inputs, add "
                     "ProfilerActivity.CUDA to the profiler's activities")


NSYS_SCRIPT = """
import sys, torch
sys.path.insert(0, sys.argv[1])
import solution
from graders.data.citation_graph import load_citation_graph
from graders.data.citation_gcn import norm_adj, trained_gcn
g = load_citation_graph()
solution.nvtx_inference(trained_gcn().cuda(), g.x.cuda(), norm_adj(g).cuda(), runs=int(sys.argv[2]))
"""


def test_nvtx_ranges_under_nsight_systems(solution, solution_dir, tmp_path):
    requires.hardware("nvidia-gpu", available=GPU[0] and torch.cuda.is_available(),
                      why=GPU[1] or "torch has no CUDA")
    nsys = shutil.which("nsys")
    requires.hardware("nsight-systems", available=nsys is not None,
                      why="the nsys command (NVIDIA Nsight Systems) is not on PATH")
    script = tmp_path / "run.py"
    script.write_text(NSYS_SCRIPT)
    out = tmp_path / "report"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    subprocess.run([nsys, "profile", "--trace=cuda,nvtx", "-o", str(out), sys.executable,
                    str(script), str(solution_dir), str(RUNS)], check=True, env=env,
                   capture_output=True, timeout=120)
    stats = subprocess.run([nsys, "stats", "--report", "nvtx_sum", "--format", "csv",
                            f"{out}.nsys-rep"], capture_output=True, text=True, timeout=120)
    rows = [line for line in stats.stdout.splitlines() if MARK in line]
    assert rows, f"Nsight Systems saw no '{MARK}' NVTX range: push/pop one per inference"
    assert f",{RUNS}," in rows[0], (
        f"the '{MARK}' NVTX range should occur {RUNS} times; nsys reports: {rows[0]}")

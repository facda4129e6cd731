"""Day 61 grader: roofline arithmetic against its closed forms (with this machine's own
calibrated peak and bandwidth), the learner's torch.profiler top-ops table against the
grader's own profile of the same model, and the NVML device query — against a scripted NVML
everywhere, against this machine's NVML (no GPU: the answer the spec defines), and on an
NVIDIA GPU against torch.cuda.get_device_properties, with CUDA kernels in the profile."""

import copy
import numbers
import warnings

import pynvml
import pytest
import torch
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile

from graders import expect, requires
from graders.data.profile_nets import conv_input, conv_net
from hardware.detect import available

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=UserWarning)
__warningregistry__: dict = {}
RUNS, TOP = 10, 5
PROFILES = 3  # the grader's own, before and after the learner's each
SHARE_TOL = 0.20  # absolute, on shares of the self time: two profiles of a busy machine differ
HEAVY = 0.10  # ops the grader's profile gives at least this share must be in the table
CLEAR_LEAD = 0.20  # the order of two ops is checked only when their shares differ this much


# ---- roofline -----------------------------------------------------------------------------

COSTS = [  # (op, dims, itemsize, flops, bytes): the closed forms of the spec
    ("matmul", {"m": 64, "k": 128, "n": 32}, 4, 2 * 64 * 128 * 32, (64 * 128 + 128 * 32
                                                                    + 64 * 32) * 4),
    ("matmul", {"m": 1024, "k": 1024, "n": 1024}, 2, 2 * 1024**3, 3 * 1024**2 * 2),
    ("linear", {"batch": 32, "in_features": 8192, "out_features": 192}, 4,
     2 * 32 * 8192 * 192 + 32 * 192, (32 * 8192 + 8192 * 192 + 192 + 32 * 192) * 4),
    ("conv2d", {"n": 8, "c_in": 3, "h": 32, "w": 32, "c_out": 16, "k": 3}, 4,
     2 * 8 * 16 * 32 * 32 * 3 * 9, (8 * 3 * 32 * 32 + 16 * 3 * 9 + 8 * 16 * 32 * 32) * 4),
    ("add", {"n": 1_000_000}, 4, 1_000_000, 12_000_000),
    ("relu", {"n": 4096}, 8, 4096, 2 * 4096 * 8),
]


@pytest.mark.parametrize("op,dims,itemsize,flops,nbytes", COSTS,
                         ids=[f"{c[0]}-{c[2]}B" for c in COSTS])
def test_op_cost_matches_the_closed_forms(solution, op, dims, itemsize, flops, nbytes):
    got = solution.op_cost(op, dict(dims), itemsize)
    assert isinstance(got, tuple) and len(got) == 2, (
        f"op_cost returns a tuple (flops, bytes), got {got!r}")
    f, b = got
    assert isinstance(f, numbers.Integral) and isinstance(b, numbers.Integral), (
        f"op_cost returns two integers, got {type(f).__name__} and {type(b).__name__}")
    assert f == flops, (
        f"FLOPs of {op} {dims}: got {f}, the closed form gives {flops} (a multiply-add is 2 "
        "FLOPs)")
    assert b == nbytes, (
        f"bytes moved by {op} {dims} with {itemsize}-byte elements: got {b}, expected {nbytes} "
        "(every input read once, the output written once, times the item size)")


def test_op_cost_default_itemsize_and_unknown_op(solution):
    assert solution.op_cost("add", {"n": 10}) == (10, 120), (
        "op_cost's itemsize defaults to 4 (float32): add of 10 elements moves 120 bytes")
    expect.raises(ValueError, solution.op_cost, "softmax", {"n": 10}, what="op_cost",
                  why="an op name the spec does not define")


def test_ridge_and_attainable_flops_at_the_boundaries(solution):
    peak, bw = 4e10, 8e9  # ridge exactly 5 FLOP/byte
    assert solution.ridge_point(peak, bw) == pytest.approx(5.0, rel=1e-12), (
        "ridge point = peak FLOP/s / bandwidth (bytes/s)")
    for intensity, want in [(0.0, 0.0), (2.5, 2e10), (5.0, 4e10), (100.0, 4e10)]:
        got = solution.attainable_flops(intensity, peak, bw)
        expect.close(got, want, what=f"attainable FLOP/s at intensity {intensity}",
                     rtol=1e-12, atol=0, oracle="min(peak, intensity × bandwidth)")
    assert solution.bound(5.0, peak, bw) == "compute", (
        "exactly at the ridge point an op is 'compute'-bound (memory-bound is intensity < ridge)")
    assert solution.bound(4.999, peak, bw) == "memory", "below the ridge an op is 'memory'-bound"
    assert solution.bound(50.0, peak, bw) == "compute", "above the ridge an op is 'compute'-bound"


@pytest.mark.parametrize("call", ["ridge_point(0, 8e9)", "ridge_point(4e10, -1)",
                                  "ridge_point(nan, 8e9)", "attainable_flops(1, 4e10, 0)",
                                  "attainable_flops(1, 4e10, nan)",
                                  "attainable_flops(-1, 4e10, 8e9)"])
def test_invalid_roofline_inputs_raise(solution, call):
    name, args = call.split("(", 1)
    values = [float(v) for v in args.rstrip(")").split(",")]
    expect.raises(ValueError, getattr(solution, name), *values, what=name,
                  why="a peak or bandwidth that is not > 0 (NaN is not > 0 either), or a "
                  "negative intensity")


@pytest.fixture(scope="module")
def machine():
    from hardware.calibrate import calibrate
    cal = calibrate(max_time_s=0.3)
    return cal.compute_gflops * 1e9, cal.memory_gbps * 1e9


def test_roofline_table_on_this_machines_calibration(solution, machine, record_metric):
    peak, bw = machine
    record_metric("calibrated peak (float64 matmul, one core)", peak / 1e9, unit="GFLOP/s")
    record_metric("calibrated bandwidth (64 MiB copy)", bw / 1e9, unit="GB/s")
    record_metric("ridge point", peak / bw, unit="FLOP/byte")
    ops = [(f"{op}{i}", op, dict(dims)) for i, (op, dims, *_rest) in enumerate(COSTS)]
    for itemsize in (4, 2):
        rows = solution.roofline_table(ops, peak, bw, itemsize)
        assert isinstance(rows, list) and len(rows) == len(ops), (
            f"roofline_table returns one row per op, in order: {len(ops)} rows expected")
        for (name, op, dims), row in zip(ops, rows, strict=True):
            keys = {"name", "flops", "bytes", "intensity", "attainable_flops", "bound",
                    "min_time_s"}
            assert isinstance(row, dict) and keys <= set(row), (
                f"each row is a dict with {sorted(keys)}; got {row!r}")
            assert row["name"] == name, f"row for {name} has name {row['name']!r}: keep the order"
            flops = [c[3] for c in COSTS if c[0] == op and c[1] == dims][0]
            # bytes scale with the item size; the table's itemsize replaces the COSTS one
            nbytes = [c[4] // c[2] for c in COSTS if c[0] == op and c[1] == dims][0] * itemsize
            intensity = flops / nbytes
            want = {"flops": flops, "bytes": nbytes, "intensity": intensity,
                    "attainable_flops": min(peak, intensity * bw),
                    "min_time_s": max(flops / peak, nbytes / bw)}
            for key, value in want.items():
                expect.close(row[key], value, what=f"{key} of {name} ({itemsize}-byte items)",
                             rtol=1e-9, atol=0, oracle="the roofline closed form")
            wanted = "memory" if intensity < peak / bw else "compute"
            assert row["bound"] == wanted, (
                f"{name}: intensity {intensity:.3g} FLOP/byte against a ridge of "
                f"{peak / bw:.3g} makes it {wanted}-bound, the row says {row['bound']!r}")


# ---- profiling ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_and_input():
    return conv_net(), conv_input()


def grader_profile(model, x, runs: int = RUNS) -> tuple[dict, dict, dict]:
    """{op: share of the aten:: self CPU time}, {op: calls per pass}, {op: self CPU µs}."""
    with torch.no_grad():
        for _ in range(2):
            model(x)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(runs):
                model(x)
    ops = [e for e in prof.key_averages() if e.key.startswith("aten::")]
    total = sum(e.self_cpu_time_total for e in ops) or 1.0
    return ({e.key: e.self_cpu_time_total / total for e in ops},
            {e.key: e.count / runs for e in ops},
            {e.key: e.self_cpu_time_total for e in ops})


@pytest.fixture(scope="module")
def profiled(solution, model_and_input):
    model, x = model_and_input
    before_state = {k: v.clone() for k, v in model.state_dict().items()}
    profiles = [grader_profile(model, x) for _ in range(PROFILES)]
    rows = solution.profile_top_ops(model, x, runs=RUNS)
    # profiles before and after the learner's: a busy spell hits some, not all of them
    profiles += [grader_profile(model, x) for _ in range(PROFILES)]
    changed = any(not torch.equal(before_state[k], v) for k, v in model.state_dict().items())
    return (rows, [shares for shares, *_ in profiles], profiles[0][1], changed,
            [selfs for *_, selfs in profiles])


def check_rows(rows, top):
    assert isinstance(rows, list) and len(rows) == top, (
        f"profile_top_ops must return a list of the top {top} ops, got "
        f"{type(rows).__name__} of length {len(rows) if isinstance(rows, list) else '—'}")
    for r in rows:
        assert isinstance(r, dict) and {"name", "self_cpu_us", "calls", "share"} <= set(r), (
            f"each row is a dict with name, self_cpu_us, calls and share; got {r!r}")
        assert str(r["name"]).startswith("aten::"), (
            f"{r['name']!r} is not an aten:: operator: the table lists aten:: ops only")
        assert isinstance(r["calls"], numbers.Integral) and isinstance(
            r["self_cpu_us"], numbers.Real), (
            f"{r['name']}: calls must be an int and self_cpu_us a float, got "
            f"{type(r['calls']).__name__} and {type(r['self_cpu_us']).__name__}")
        assert 0 < float(r["share"]) <= 1, (
            f"{r['name']}: share {r['share']} is not a fraction in (0, 1] (not a percentage)")
    selfs = [float(r["self_cpu_us"]) for r in rows]
    assert selfs == sorted(selfs, reverse=True), (
        "the rows must be sorted by self CPU time, largest first")
    first = rows[0]
    for r in rows[1:]:
        want = float(r["self_cpu_us"]) / float(first["self_cpu_us"])
        got = float(r["share"]) / float(first["share"])
        assert abs(got - want) <= 1e-6 * max(1.0, want), (
            f"shares are not proportional to self times ({r['name']}: share ratio {got:.4f}, "
            f"self-time ratio {want:.4f}): share = self_cpu_us / the summed self time of all "
            "aten:: ops of the profile")


def test_table_is_well_formed_and_model_untouched(profiled):
    rows, _, _, changed, _ = profiled
    assert not changed, "profile_top_ops changed the model's weights"
    assert not torch.autograd.profiler._is_profiler_enabled, (
        "the profiler is still running after profile_top_ops returned")
    check_rows(rows, TOP)


def test_calls_count_the_profiled_passes_only(profiled):
    rows, _, per_pass, _, _ = profiled
    for r in rows:
        want = per_pass.get(r["name"], 0) * RUNS
        assert int(r["calls"]) == want, (
            f"{r['name']}: the table says {r['calls']} calls; it runs "
            f"{per_pass.get(r['name'], 0):g} times per forward pass, so {RUNS} profiled passes "
            f"make {want:g} (warm-up passes belong outside the profiler)")


def test_self_times_are_summed_over_the_runs(profiled):
    rows, _, _, _, selfs = profiled
    name, got = rows[0]["name"], float(rows[0]["self_cpu_us"])
    least = min(s.get(name, 0.0) for s in selfs)
    # a busy machine only makes a profile slower: 3× below the fastest of six is not noise
    assert got >= least / 3, (
        f"{name}: self_cpu_us {got:.1f}, but each of the grader's profiles of the same {RUNS} "
        f"passes gives it at least {least:.1f} µs: self_cpu_us is the op's self time summed "
        f"over the {RUNS} profiled passes, in µs (.self_cpu_time_total), not per pass")


def test_shares_count_the_ops_outside_the_table(profiled):
    rows, profiles, _, _, _ = profiled
    if min(sum(1 for v in shares.values() if v > 0) for shares in profiles) <= TOP:
        raise requires.Inconclusive(f"the grader's profiles have at most {TOP} aten:: ops with "
                                    "self time: every op is in the table")
    total = sum(float(r["share"]) for r in rows)
    assert total < 1 - 1e-6, (
        f"the shares of your {TOP} rows sum to {total:.9f}, but the profile has more aten:: ops "
        f"than the {TOP} shown: share = the op's self time / the summed self time of all "
        "aten:: ops of the profile, not of the rows returned")


def disagreement(rows: list[dict], shares: dict) -> str:
    """Why a top-ops table does not fit one profile's shares ('' when it does)."""
    ranked = sorted(shares, key=shares.get, reverse=True)
    mine = ", ".join(f"{k} {shares[k]:.2f}" for k in ranked[:TOP])
    names = [r["name"] for r in rows]
    heavy = [k for k in ranked if shares[k] >= HEAVY]
    missing = [k for k in heavy if k not in names]
    if missing:
        return (f"the grader's profile gives {', '.join(missing)} at least {HEAVY:.0%} of the "
                f"self CPU time, your table ({', '.join(names)}) lacks it; grader's top: {mine}")
    for a, b in zip(heavy, heavy[1:], strict=False):
        if shares[a] - shares[b] >= CLEAR_LEAD and names.index(a) > names.index(b):
            return (f"the grader's profile puts {a} ({shares[a]:.2f}) clearly above {b} "
                    f"({shares[b]:.2f}); your table has them the other way round")
    for r in rows:
        if r["name"] in heavy and abs(float(r["share"]) - shares[r["name"]]) > SHARE_TOL:
            return (f"{r['name']}: your share {float(r['share']):.3f}, the grader's profile "
                    f"{shares[r['name']]:.3f} (tolerance ±{SHARE_TOL}): share is the op's self "
                    "time over the self time of all aten:: ops")
    return ""


def as_rows(shares: dict) -> list[dict]:
    ranked = sorted(shares, key=shares.get, reverse=True)[:TOP]
    return [{"name": k, "share": shares[k]} for k in ranked]


def test_top_ops_agree_with_the_graders_profile(profiled, record_metric):
    rows, profiles, _, _, _ = profiled
    record_metric("top op share of self CPU time", float(rows[0]["share"]),
                  unit=f"({rows[0]['name']})")
    why = [disagreement(rows, shares) for shares in profiles]
    if all(why):  # like none of the grader's own profiles
        noisy = [disagreement(as_rows(a), b) for a in profiles for b in profiles if a is not b]
        if any(noisy):
            raise requires.Inconclusive(
                f"your table fits none of the grader's {len(profiles)} profiles ({why[0]}), but "
                f"those disagree among themselves ({next(w for w in noisy if w)}): the machine "
                "is too busy to tell")
        pytest.fail(why[0] + ". Sort by self time (self_cpu_time_total), not total time",
                    pytrace=False)


def test_arguments_eval_mode_and_no_grad_are_used(solution, model_and_input):
    model, x = model_and_input
    probe = copy.deepcopy(model).train()
    calls = []
    probe.register_forward_pre_hook(lambda m, _: calls.append(
        (torch.autograd.profiler._is_profiler_enabled, torch.is_grad_enabled(), m.training)))
    rows = solution.profile_top_ops(probe, x, runs=4, warmup=1, top=3)
    inside = sum(1 for c in calls if c[0])
    assert [c[0] for c in calls] == [False] + [True] * 4, (
        f"profile_top_ops(runs=4, warmup=1) made {len(calls) - inside} forward passes outside "
        f"the profiler and {inside} inside it; expected 1 warm-up pass, then 4 profiled ones")
    assert not any(grad for _, grad, _ in calls), (
        "a forward pass ran with gradients enabled: run everything under torch.no_grad()")
    assert not any(training for *_, training in calls), (
        "a forward pass ran in training mode: call model.eval() first")
    check_rows(rows, 3)


def test_shares_of_all_ops_sum_to_one(solution, model_and_input):
    rows = solution.profile_top_ops(model_and_input[0], model_and_input[1], runs=2, warmup=1,
                                    top=1000)
    assert isinstance(rows, list) and 5 <= len(rows) < 1000, (
        "with top=1000 the table lists every aten:: op of the profile (fewer than 1000)")
    total = sum(float(r["share"]) for r in rows)
    assert abs(total - 1.0) <= 1e-6, (
        f"the shares of all aten:: ops sum to {total:.6f}, not 1: share = the op's self time / "
        "the summed self time of all aten:: ops (a fraction, not a percentage)")


GPU = available("nvidia-gpu")
NEEDS_GPU = {"available": GPU[0] and torch.cuda.is_available(),
             "why": GPU[1] or "torch has no CUDA"}


def test_cuda_kernels_refuses_cpu_tensors(solution, model_and_input):
    model, x = model_and_input
    expect.raises(ValueError, solution.cuda_kernels, model, x, what="cuda_kernels",
                  why="the input is on the CPU: there are no CUDA kernels to profile")


def test_cuda_kernels_appear_in_the_profile(solution, model_and_input):
    requires.hardware("nvidia-gpu", **NEEDS_GPU)
    model, x = copy.deepcopy(model_and_input[0]).cuda(), model_and_input[1].cuda()
    probe = copy.deepcopy(model).train()
    calls = []
    probe.register_forward_pre_hook(lambda m, _: calls.append(
        (torch.autograd.profiler._is_profiler_enabled, torch.is_grad_enabled(), m.training)))
    got = solution.cuda_kernels(probe, x, runs=3)
    assert [c[0] for c in calls] == [False, True, True, True], (
        "cuda_kernels(runs=3) must make 1 warm-up pass outside the profiler and 3 inside it; "
        f"the model saw {[('profiled' if c[0] else 'unprofiled') for c in calls]}")
    assert not any(c[1] or c[2] for c in calls), (
        "cuda_kernels ran a pass with gradients on or in training mode: eval() and no_grad()")
    assert isinstance(got, list) and got and all(isinstance(k, str) for k in got), (
        f"cuda_kernels returns a non-empty list of kernel names, got {got!r}")
    cpu_ops = [k for k in got if k.startswith("aten::")]
    assert not cpu_ops, f"{cpu_ops[0]} is a CPU-side operator, not a CUDA kernel"
    with torch.no_grad():
        model(x)
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            model(x)
            torch.cuda.synchronize()
    kernels = {e.key: e.self_device_time_total for e in prof.key_averages()
               if e.device_type == DeviceType.CUDA and not getattr(e, "is_user_annotation", False)}
    best = max(kernels, key=kernels.get)
    assert best in got, (
        f"the grader's profile of the same model has {best} as its longest kernel; your list "
        f"({', '.join(got[:5])}…) lacks it")


# ---- NVML device query --------------------------------------------------------------------


class FakeNvml:
    """A scripted NVML: `devices` as (name, total bytes, (major, minor)); counts init and
    shutdown so that an unbalanced pair shows."""

    def __init__(self, devices=(), init_error=None):
        self.devices, self.init_error = list(devices), init_error
        self.inits = self.shutdowns = 0

    def install(self, monkeypatch):
        mp = monkeypatch
        mp.setattr(pynvml, "nvmlInit", self.init)
        mp.setattr(pynvml, "nvmlShutdown", self.shutdown)
        mp.setattr(pynvml, "nvmlDeviceGetCount", lambda: self.live() and len(self.devices))
        mp.setattr(pynvml, "nvmlDeviceGetHandleByIndex", lambda i: self.live() and ("h", i))
        mp.setattr(pynvml, "nvmlDeviceGetName", lambda h: self.live() and self.devices[h[1]][0])
        mp.setattr(pynvml, "nvmlDeviceGetMemoryInfo", lambda h: self.live() and type(
            "Memory", (), {"total": self.devices[h[1]][1], "free": 0, "used": 0})())
        mp.setattr(pynvml, "nvmlDeviceGetCudaComputeCapability",
                   lambda h: self.live() and self.devices[h[1]][2])

    def init(self):
        if self.init_error is not None:
            raise self.init_error
        self.inits += 1

    def shutdown(self):
        if self.inits <= self.shutdowns:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_UNINITIALIZED)
        self.shutdowns += 1

    def live(self):
        if self.inits <= self.shutdowns:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_UNINITIALIZED)
        return True


def check_no_gpu(got, reason):
    assert isinstance(got, dict), f"device_query returns a dict, got {got!r}"
    assert got.get("gpu") is False and got.get("devices") == [], (
        f"with no usable GPU device_query returns gpu False and devices [], got {got!r}")
    assert got.get("reason") == reason, (
        f"the reason must be {reason!r} (str() of NVML's error, or the spec's text for zero "
        f"devices), got {got.get('reason')!r}")


@pytest.mark.parametrize("error", ["LibraryNotFound", "DriverNotLoaded"])
def test_device_query_turns_nvml_errors_into_no_gpu(solution, monkeypatch, error):
    exc = getattr(pynvml, f"NVMLError_{error}")()
    FakeNvml(init_error=exc).install(monkeypatch)
    try:
        got = solution.device_query()
    except pynvml.NVMLError as e:
        pytest.fail(f"device_query raised {type(e).__name__} ({e}): an NVML that cannot start "
                    "means no GPU — return the spec's no-GPU answer", pytrace=False)
    check_no_gpu(got, str(exc))


def test_device_query_with_zero_devices(solution, monkeypatch):
    fake = FakeNvml()
    fake.install(monkeypatch)
    check_no_gpu(solution.device_query(), "NVML reports 0 devices")
    assert fake.inits == fake.shutdowns == 1, (
        f"nvmlInit ran {fake.inits}×, nvmlShutdown {fake.shutdowns}×: shut NVML down once "
        "after a successful init")


def test_device_query_reads_every_device(solution, monkeypatch):
    fake = FakeNvml([("NVIDIA H100 80GB HBM3", 85_520_809_984, (9, 0)),
                     (b"Tesla T4", 16_106_127_360, (7, 5))])  # old pynvml returns bytes
    fake.install(monkeypatch)
    got = solution.device_query()
    want = {"gpu": True, "reason": "", "devices": [
        {"index": 0, "name": "NVIDIA H100 80GB HBM3", "memory_bytes": 85_520_809_984,
         "compute_capability": "9.0"},
        {"index": 1, "name": "Tesla T4", "memory_bytes": 16_106_127_360,
         "compute_capability": "7.5"}]}
    assert got == want, f"device_query on a scripted NVML with two GPUs:\n got  {got}\n want {want}"
    assert fake.inits == fake.shutdowns == 1, (
        f"nvmlInit ran {fake.inits}×, nvmlShutdown {fake.shutdowns}×: call nvmlShutdown once, "
        "after reading the devices")


def test_device_query_on_this_machine(solution, record_metric):
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        check_no_gpu(solution.device_query(), str(exc))
        record_metric("NVML", 0, unit=f"no GPU: {exc}")
        return
    pynvml.nvmlShutdown()
    got = solution.device_query()
    assert isinstance(got, dict) and got.get("gpu") is True and got.get("devices"), (
        f"NVML starts on this machine, so device_query must report its GPUs, got {got!r}")


def test_device_query_agrees_with_torch_on_a_gpu(solution, record_metric):
    requires.hardware("nvidia-gpu", **NEEDS_GPU)
    got = solution.device_query()
    assert isinstance(got, dict) and got.get("gpu") is True and got.get("devices"), (
        f"this machine has an NVIDIA GPU, so device_query must report it, got {got!r}")
    for i in range(min(len(got["devices"]), torch.cuda.device_count())):
        dev, props = got["devices"][i], torch.cuda.get_device_properties(i)
        assert dev["name"] == props.name, (
            f"GPU {i}: NVML name {dev['name']!r}, torch says {props.name!r}")
        assert dev["compute_capability"] == f"{props.major}.{props.minor}", (
            f"GPU {i}: compute capability {dev['compute_capability']}, torch says "
            f"{props.major}.{props.minor}")
        # NVML counts all of the memory, CUDA what its context can address: a few % apart
        ratio = dev["memory_bytes"] / props.total_memory
        assert 0.95 <= ratio <= 1.10, (
            f"GPU {i}: {dev['memory_bytes']} bytes by NVML vs {props.total_memory} by torch")
        record_metric(f"GPU {i}", props.multi_processor_count,
                      unit=f"SMs ({props.name}, CC {props.major}.{props.minor})")

"""Day 88 grader: the capstone prototype against strong baselines. The learner builds four
backends of the grader's trained MLP (fp32 eager, the prototype, torch.compile with inductor,
onnxruntime from a torch.onnx export) and a table of benchmark records. The grader checks
that each backend is what it says (outputs, the ONNX file run by its own onnxruntime
session, inductor's generated code, onnxruntime's own run calls, one thread) and measures
every backend itself in the same run: the table's ratios to eager must agree with its own."""

import contextlib
import os
import tempfile
import time
import warnings

# before torch compiles anything: inductor's cache inside the grade's scratch folder (TMPDIR),
# so every grade compiles cold and leaves nothing behind; no pool of compile workers
os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="inductor-")
os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch._dynamo  # noqa: E402, F401  (imported before the grade: see below)
from onnxruntime.capi.onnxruntime_inference_collection import Session  # noqa: E402

from graders.data.capstone2 import (  # noqa: E402
    baseline,
    changes,
    load_task,
    record_problems,
    state_of,
)

# quantisation and compile import torch._dynamo, which wraps torch.manual_seed: it is imported
# above, before the grade, so the module guard does not blame the solution for it
torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=UserWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)
__warningregistry__: dict = {}
NAMES = ("eager", "prototype", "compile", "onnxruntime")
ATOL = {"eager": 1e-5, "compile": 1e-4, "onnxruntime": 1e-4}
MAX_DROP_PT = 1.0
FACTOR = 1.5  # the table's figures may differ from the grader's by at most this factor
CACHE = os.environ["TORCHINDUCTOR_CACHE_DIR"]
# the caller's thread count in the benchmark check: never torch's default nor one per core
CALLER_THREADS = (os.cpu_count() or 1) + 1
SLEEP_S = 5e-4  # a call that sleeps this long: wall clock sees it, the thread's CPU time not


@pytest.fixture(scope="module")
def task():
    return load_task()


@pytest.fixture(scope="module")
def want(task):
    return baseline(load_task().model)(task.x_bench)


# first: it needs no backend, so a benchmark that breaks day 85's rules fails before the
# export and inductor's compile
def test_benchmark_is_day85s(solution, task):
    """Day 85's rules, on cheap functions: one thread while timing, the caller's count
    restored (also when fn raises), the thread's CPU time."""
    seen: set[int] = set()

    def sleepy(x):
        seen.add(torch.get_num_threads())
        time.sleep(SLEEP_S)
        return x

    def broken(x):
        raise RuntimeError("a function under test that fails")

    x = task.x_bench[:1]
    torch.set_num_threads(CALLER_THREADS)
    try:
        record = solution.benchmark(sleepy, x, name="sleeps")
        after = torch.get_num_threads()
        torch.set_num_threads(CALLER_THREADS)
        with contextlib.suppress(Exception):
            solution.benchmark(broken, x, name="raises")
        after_raise = torch.get_num_threads()
    finally:
        torch.set_num_threads(1)
    problems = record_problems(record, name="the record")
    if seen != {1}:
        problems.append(f"fn ran with {sorted(seen)} torch thread(s): time it on one "
                        f"(torch.set_num_threads(1); the caller had {CALLER_THREADS})")
    if after != CALLER_THREADS or after_raise != CALLER_THREADS:
        problems.append(f"torch's thread count was {after} after benchmark returned and "
                        f"{after_raise} after fn raised; the caller had {CALLER_THREADS}: "
                        "restore the caller's count, also when fn raises (try/finally)")
    if not problems and record["median_ms"] >= SLEEP_S * 1e3 / 2:
        problems.append(f"a function that sleeps {SLEEP_S * 1e3:g} ms per call got a median "
                        f"of {record['median_ms']:.3g} ms: wall-clock time; time with "
                        "timer=time.thread_time (the thread's CPU time)")
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def built(solution, task, tmp_path_factory):
    """The learner's backends, with what their building did: onnxruntime sessions created
    (their intra-op thread counts) and changes to the model."""
    workdir = tmp_path_factory.mktemp("backends")
    before = state_of(task.model)
    threads: list[int] = []
    init = ort.InferenceSession.__init__

    def spying_init(self, path_or_bytes, sess_options=None, *args, **kwargs):
        threads.append(sess_options.intra_op_num_threads if sess_options is not None else 0)
        init(self, path_or_bytes, sess_options, *args, **kwargs)

    ort.InferenceSession.__init__ = spying_init
    try:
        backends = solution.build_backends(task.model, task.calib.clone(), task.x_bench.clone(),
                                           workdir)
    finally:
        ort.InferenceSession.__init__ = init
    return {"backends": backends, "workdir": workdir, "threads": threads,
            "changed": changes(task.model, before)}


def structure_problems(built) -> list[str]:
    backends = built["backends"]
    if not isinstance(backends, dict) or set(backends) != set(NAMES):
        keys = sorted(backends) if isinstance(backends, dict) else type(backends).__name__
        return [f"build_backends must return a dict with exactly the keys {list(NAMES)}, "
                f"got {keys}"]
    problems = [f"backends[{k!r}] is not callable" for k in NAMES if not callable(backends[k])]
    if built["changed"]:
        problems.append(f"build_backends modified the model it was given: {built['changed']}; "
                        "build every backend from copy.deepcopy(model)")
    if not built["threads"]:
        problems.append("build_backends created no onnxruntime.InferenceSession")
    elif any(t != 1 for t in built["threads"]):
        problems.append(
            f"the onnxruntime session(s) have intra_op_num_threads {built['threads']} (0 means "
            "every core): set SessionOptions.intra_op_num_threads = 1 — the table times one "
            "thread's CPU time, and work on other threads would not be counted")
    return problems + onnx_file_problems(built["workdir"] / "model.onnx")


def onnx_file_problems(path) -> list[str]:
    if not path.is_file():
        return [f"no {path.name} in the workdir given to build_backends"]
    graph = onnx.load(str(path), load_external_data=False).graph
    external = [t.name for t in graph.initializer
                if t.data_location == onnx.TensorProto.EXTERNAL]
    if external:
        return [f"{len(external)} weight(s) of model.onnx live in a separate data file "
                f"({', '.join(external[:3])}…): export with external_data=False (torch puts "
                "even small weights in model.onnx.data by default)"]
    return []


def ready(built) -> dict:
    """The backends, once they have the right structure (the expensive checks — inductor's
    compile, the measurements — wait for that)."""
    problems = structure_problems(built)
    if problems:
        pytest.fail("not measured until the backends are right: " + "; ".join(problems),
                    pytrace=False)
    return built["backends"]


def test_four_backends_built_as_specified(built):
    problems = structure_problems(built)
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


def logits_of(fn, x, name):
    out = fn(x)
    if not isinstance(out, torch.Tensor) or out.dtype != torch.float32 or \
            tuple(out.shape) != (len(x), 10):
        what = (f"{out.dtype} {tuple(out.shape)}" if isinstance(out, torch.Tensor)
                else type(out).__name__)
        pytest.fail(f"backends[{name!r}](x) gave {what}: every backend returns a float32 "
                    f"torch tensor ({len(x)}, 10)", pytrace=False)
    if out.requires_grad:
        pytest.fail(f"backends[{name!r}](x) requires grad: run it without autograd",
                    pytrace=False)
    return out


def test_eager_is_the_fp32_baseline(built, task, want):
    backends = ready(built)
    err = (logits_of(backends["eager"], task.x_bench, "eager") - want).abs().max().item()
    assert err <= ATOL["eager"], (f"backends['eager'] differs from model(x) by up to {err:.3g} "
                                  f"(allowed {ATOL['eager']}): it is the model as given, fp32")


def test_the_onnx_file_is_the_model(built, task, want):
    ready(built)
    path = built["workdir"] / "model.onnx"
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    feed = {sess.get_inputs()[0].name: task.x_bench.numpy()}
    got = sess.run(None, feed)[0]
    err = float(np.abs(got - want.numpy()).max())
    assert err <= ATOL["onnxruntime"], (
        f"model.onnx, run by the grader's onnxruntime session, differs from the model by up "
        f"to {err:.3g} (allowed {ATOL['onnxruntime']}): export the fp32 model itself")


def test_the_onnxruntime_backend_runs_onnxruntime(built, task, want):
    backends = ready(built)
    runs = []
    run = Session.run

    def counting_run(self, *args, **kwargs):
        runs.append(1)
        return run(self, *args, **kwargs)

    Session.run = counting_run
    try:
        out = logits_of(backends["onnxruntime"], task.x_bench, "onnxruntime")
    finally:
        Session.run = run
    assert runs, ("backends['onnxruntime'] never called an onnxruntime session's run: it "
                  "must run the exported model with onnxruntime")
    err = (out - want).abs().max().item()
    assert err <= ATOL["onnxruntime"], (f"backends['onnxruntime'] differs from model(x) by up "
                                        f"to {err:.3g} (allowed {ATOL['onnxruntime']})")


def test_the_compile_backend_is_inductor(built, task, want, record_metric):
    backends = ready(built)
    frames = torch._dynamo.utils.counters["frames"]["ok"]
    t0 = time.perf_counter()
    out = logits_of(backends["compile"], task.x_bench, "compile")  # the compile, if cold
    record_metric("compile_first_call", time.perf_counter() - t0, unit="s")
    compiled = torch._dynamo.utils.counters["frames"]["ok"] > frames or any(
        files for _, _, files in os.walk(CACHE))
    assert compiled, ("backends['compile'] ran without torch.compile compiling anything: "
                      "return a function that calls torch.compile(model copy)")
    assert any(files for _, _, files in os.walk(CACHE)), (
        "torch.compile ran, but inductor generated no code (TORCHINDUCTOR_CACHE_DIR is "
        "empty): compile with the default backend, 'inductor', not 'eager' or 'aot_eager'")
    err = (out - want).abs().max().item()
    assert err <= ATOL["compile"], (f"backends['compile'] differs from model(x) by up to "
                                    f"{err:.3g} (allowed {ATOL['compile']})")


def test_the_prototype_keeps_its_accuracy(built, task, want):
    backends = ready(built)
    got = logits_of(backends["prototype"], task.x_bench, "prototype").argmax(1)
    y = task.y_eval[:len(task.x_bench)]
    drop = ((want.argmax(1) == y).double().mean() - (got == y).double().mean()).item() * 100
    assert drop <= MAX_DROP_PT, (f"the prototype loses {drop:.2f} points of accuracy on the "
                                 f"{len(y)} benchmark images (allowed {MAX_DROP_PT})")


@pytest.fixture(scope="module")
def table(solution, built, task):
    backends = ready(built)
    return solution.measure_table(backends, task.x_bench)


def test_the_table_holds_one_record_per_backend(table):
    if not isinstance(table, dict) or set(table) != set(NAMES):
        keys = sorted(table) if isinstance(table, dict) else type(table).__name__
        pytest.fail(f"measure_table must return a dict keyed {list(NAMES)}, got {keys}",
                    pytrace=False)
    problems = [p for k in NAMES for p in record_problems(table[k], name=f"table[{k!r}]")]
    problems += [f"table[{k!r}]['name'] is {table[k]['name']!r}, not {k!r}" for k in NAMES
                 if not problems and table[k]["name"] != k]
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


def test_the_table_agrees_with_the_graders_measurements(table, built, task, bench,
                                                        record_metric):
    backends = ready(built)
    if not isinstance(table, dict) or set(table) != set(NAMES) or any(
            record_problems(table[k]) for k in NAMES):
        pytest.fail("the table is malformed (see the check of its records)", pytrace=False)
    ms = {}
    for k in NAMES:
        m = bench.measure(backends[k], task.x_bench, name=f"{k}, batch {len(task.x_bench)}",
                          timer=time.thread_time, memory=False, max_time_s=1.0)
        ms[k] = m.median_s * 1e3
    assert torch.get_num_threads() == 1, "a backend changed torch's thread count"
    problems = []
    ratio = table["eager"]["median_ms"] / ms["eager"]
    if not 1 / FACTOR <= ratio <= FACTOR:
        problems.append(f"eager: the table says {table['eager']['median_ms']:.4g} ms, the "
                        f"grader measured {ms['eager']:.4g} ms (ratio {ratio:.3g})")
    for k in NAMES[1:]:
        theirs = table[k]["median_ms"] / table["eager"]["median_ms"]
        ours = ms[k] / ms["eager"]
        record_metric(f"{k}_speedup", 1 / ours, unit="x")
        if not 1 / FACTOR <= theirs / ours <= FACTOR:
            problems.append(f"{k}: the table gives {theirs:.3g}× eager's time, the grader "
                            f"measured {ours:.3g}×")
    if problems:
        pytest.fail("the table disagrees with the grader's own measurement (allowed a factor "
                    f"{FACTOR}): " + "; ".join(problems) + ". Measure each backend itself, on "
                    "one thread, in milliseconds per call", pytrace=False)

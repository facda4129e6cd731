"""Day 106 grader: the learner's three runners — eager torch, onnxruntime, TVM (torch.export
-> Relax -> tvm.compile) — behind one interface. The oracle is the seeded digits CNN run by
torch in eval mode; the grader writes the ONNX file itself, checks every runner at several
batch sizes, dtypes and a strided view, that the caller's model is left alone and copied once,
that torch runs without autograd, that onnxruntime runs one session on one thread, that the
TVM module is compiled once and not per call, then records a latency table of the three
runners with graders.bench."""

import os
import time

import numpy as np
import pytest
import torch

from graders.data.onnx_nets import digits_batch, make_net, unfused_graph
from graders.requires import package

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TVM_NUM_THREADS", "1")  # before tvm starts its thread pool
torch.set_num_threads(1)
import onnx  # noqa: E402  (after the environment is set)
import onnxruntime as ort  # noqa: E402


@pytest.fixture(scope="module")
def tvm():
    """TVM, imported by the checks that need it: without it only they are skipped, and a
    mistake caught by the torch or onnxruntime checks never pays for the import."""
    return package("tvm", "mltrack[tvm]")

BATCHES = (1, 8, 37)  # 8: the export example; 1 and 37: the batch axis must be dynamic
MAX_BATCH = 1024  # the export's Dim max: TVM sizes its storage for it, so it runs exactly there
TORCH_ATOL = 1e-6  # the torch runner vs the grader's own eval-mode forward
ORT_ATOL = 1e-6  # the onnxruntime runner vs the grader's own session on the same file
TVM_ATOL = 1e-5  # the TVM module vs torch (measured ~1e-7)


@pytest.fixture(scope="module")
def onnx_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.onnx"
    onnx.save(unfused_graph(), str(path))
    return path


def _oracle(x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return make_net().eval()(torch.from_numpy(x.astype(np.float32))).numpy()


def _threads() -> int:
    return len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 0


def _build(make, *args):
    """A runner built from a fresh training-mode net, and what it did to that net ("" when
    the net came back untouched, as it must)."""
    model = make_net()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    run = make(model, *args)
    if not model.training:
        return run, ("building the runner put the caller's model in eval mode: work on a copy "
                     "(copy.deepcopy(model).eval()) and leave the model as it came")
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    return run, f"building the runner changed the caller's model: {changed[:4]}" if changed else ""


def _check_outputs(run, name, want_of=_oracle, atol=TORCH_ATOL, batches=BATCHES):
    for b in batches:
        x = digits_batch(b, offset=3 * b).numpy()
        try:
            got = run(x)
        except Exception as exc:
            pytest.fail(f"the {name} runner on a batch of {b} raised {type(exc).__name__}: "
                        f"{str(exc)[:300]} (every batch 1..{MAX_BATCH} must run)",
                        pytrace=False)
        assert isinstance(got, np.ndarray), (
            f"the {name} runner returned {type(got).__module__}.{type(got).__name__}, "
            "expected a numpy array (convert the backend's output with .numpy())")
        assert got.dtype == np.float32 and got.shape == (b, 10), (
            f"the {name} runner on a batch of {b} returned {got.dtype} {got.shape}, expected "
            f"float32 ({b}, 10)")
        err = float(np.max(np.abs(got - want_of(x))))
        assert err <= atol, (
            f"the {name} runner differs from the eval-mode torch model by {err:.3g} on a batch "
            f"of {b} (tolerance {atol:g}): export/run the model in eval mode (BatchNorm running "
            "statistics, no dropout)")
    x64 = digits_batch(8, offset=5).numpy().astype(np.float64)
    try:
        got = run(x64)
    except Exception as exc:
        pytest.fail(f"the {name} runner on a float64 batch raised {type(exc).__name__}: "
                    f"{str(exc)[:200]} — convert x to a contiguous float32 array first",
                    pytrace=False)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32, (
        f"the {name} runner given a float64 batch returned "
        f"{getattr(got, 'dtype', type(got).__name__)}: convert the input to float32 first, "
        "the output is float32")
    err = float(np.max(np.abs(got - want_of(x64))))
    assert err <= atol, f"the {name} runner on a float64 batch differs by {err:.3g}"
    x_rev = digits_batch(8, offset=7).numpy()[::-1]  # a view with a negative stride
    try:
        got = run(x_rev)
    except Exception as exc:
        pytest.fail(f"the {name} runner on a reversed view x[::-1] raised "
                    f"{type(exc).__name__}: {str(exc)[:200]} — convert x to a contiguous "
                    "float32 array first",
                    pytrace=False)
    err = float(np.max(np.abs(np.asarray(got) - want_of(np.ascontiguousarray(x_rev)))))
    assert err <= atol, f"the {name} runner on a reversed view x[::-1] differs by {err:.3g}"


def _autograd_records(run, x) -> int:
    """How many tensors autograd saved for backward during one call of `run` (0 without
    autograd: under torch.no_grad() or torch.inference_mode())."""
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(1) or t, lambda t: t):
        run(x)
    return len(saved)


def test_torch_runner(solution):
    model = make_net()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    run = solution.torch_runner(model)
    assert model.training, ("building the runner put the caller's model in eval mode: work on "
                            "a copy (copy.deepcopy(model).eval()) and leave the model as it came")
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    assert not changed, f"building the runner changed the caller's model: {changed[:4]}"
    x = digits_batch(8, offset=9).numpy()
    first = np.array(run(x), copy=True)
    records = _autograd_records(run, x)
    assert records == 0, (
        f"one call of the torch runner recorded an autograd graph ({records} saved tensors): "
        "run the model under torch.no_grad() or torch.inference_mode()")
    with torch.no_grad():  # the caller goes on training: the runner must not see it
        for p in model.parameters():
            p.add_(0.5)
    again = np.asarray(run(x))
    if not np.array_equal(again, first):
        pytest.fail("the torch runner's output changed when the caller's model changed after "
                    "the runner was built: copy the model once, in torch_runner, never in run",
                    pytrace=False)
    _check_outputs(run, "torch")


def _ort(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return lambda x: sess.run(None, {"input": x.astype(np.float32)})[0]


class _SessionSpy:
    """Records the onnxruntime sessions created while it is active."""

    def __init__(self, monkeypatch):
        self.sessions = []
        original = ort.InferenceSession.__init__

        def init(session, *a, **kw):
            original(session, *a, **kw)
            self.sessions.append(session)

        monkeypatch.setattr(ort.InferenceSession, "__init__", init)


def test_onnx_runner(solution, onnx_path, monkeypatch):
    spy = _SessionSpy(monkeypatch)
    before = _threads()
    run = solution.onnx_runner(onnx_path)
    built = len(spy.sessions)
    run(digits_batch(8).numpy())
    added = _threads() - before
    if before and (os.cpu_count() or 1) >= 2:
        assert added <= 0, (
            f"building and calling the onnxruntime runner started {added} more thread(s): pin "
            "it to one thread (SessionOptions.intra_op_num_threads = inter_op_num_threads = 1)")
    assert len(spy.sessions) == built, (
        "one call of the onnxruntime runner created a new InferenceSession: build the session "
        "once, in onnx_runner, and only run it in run")
    assert built == 1, f"onnx_runner created {built} InferenceSession(s), expected exactly one"
    opts, providers = spy.sessions[0].get_session_options(), spy.sessions[0].get_providers()
    threads = (opts.intra_op_num_threads, opts.inter_op_num_threads)
    assert threads == (1, 1), (
        f"the session runs with intra_op_num_threads, inter_op_num_threads = {threads}: set "
        "both to 1 in its SessionOptions")
    assert providers == ["CPUExecutionProvider"], (
        f"the session's providers are {providers}, expected ['CPUExecutionProvider'] only")
    _check_outputs(run, "onnxruntime", want_of=_ort(onnx_path), atol=ORT_ATOL)


class _CompileCounter:
    """Counts tvm.compile / relax.build calls while it is active."""

    def __init__(self, tvm, monkeypatch):
        self.calls = 0
        for owner, name in ((tvm, "compile"), (tvm.relax, "build")):
            original = getattr(owner, name)

            def counted(*a, _original=original, **kw):
                self.calls += 1
                return _original(*a, **kw)

            monkeypatch.setattr(owner, name, counted)


@pytest.fixture(scope="module")
def tvm_build(solution, tvm):  # one export + compile for the whole grade
    return _build(solution.tvm_runner, digits_batch(8).clone())


@pytest.fixture
def tvm_run(tvm_build):
    return tvm_build[0]


def test_tvm_module_is_compiled_once(tvm, tvm_run, monkeypatch):  # first: a mistake here is slow
    counter = _CompileCounter(tvm, monkeypatch)
    tvm_run(digits_batch(8, offset=1).numpy())
    assert counter.calls == 0, (
        f"one call of the TVM runner compiled {counter.calls} time(s): compile once in "
        "tvm_runner and keep the VirtualMachine; run only feeds it")


def test_tvm_runner_matches_torch(tvm_build):
    run, harm = tvm_build
    assert not harm, harm
    _check_outputs(run, "TVM", atol=TVM_ATOL, batches=(*BATCHES, MAX_BATCH))


def test_three_backends_agree_and_latency_table(solution, tvm_run, onnx_path, bench,
                                                record_metric):
    runners = {"torch": _build(solution.torch_runner)[0], "onnxruntime":
               solution.onnx_runner(onnx_path), "tvm": tvm_run}
    x = digits_batch(8, offset=2).numpy()
    outs = {name: run(x) for name, run in runners.items()}
    for name in ("onnxruntime", "tvm"):
        err = float(np.max(np.abs(outs[name] - outs["torch"])))
        record_metric(f"max |{name} - torch|", err)
        assert err <= TVM_ATOL, f"{name} and torch runners disagree by {err:.3g}"
    for name, run in runners.items():
        bench.measure(run, x, name=f"{name} runner, batch 8", max_time_s=0.4, memory=False,
                      rel_iqr_max=0.5)  # recorded: the latency table
    metric = "tvm_latency"
    bench.target(metric)  # a machine the target does not list: skipped before measuring
    m = bench.measure(tvm_run, x, name="tvm runner, batch 8, CPU time", timer=time.thread_time,
                      max_time_s=0.6, memory=False, rel_iqr_max=0.5)
    bench.check(m, metric)

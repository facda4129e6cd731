"""Day 119 grader: capstone 2's trained digits MLP through the learner's TVM pipeline. The
host build runs here against torch (the oracle); the aarch64 build is checked as an artefact —
its ELF header (64-bit, little endian, shared object, machine AArch64) and dynamic symbols
read with graders.data.elf, the model's own weights found inside it. Running that library
needs a 64-bit ARM board with the TVM runtime: elsewhere skipped with the reason."""

import importlib.util
import os
import shutil
import time

import numpy as np
import pytest
import torch

from graders.data import elf
from graders.data.capstone2 import load_task
from graders.requires import PackageSkip, hardware, package
from hardware.detect import available

os.environ.setdefault("TVM_NUM_THREADS", "1")  # before tvm starts its thread pool
torch.set_num_threads(1)

CROSS_CXX = "aarch64-linux-gnu-g++"
ATOL = 1e-4  # TVM vs torch on logits of size ~15 (measured ~1e-5)
BATCHES = (1, 37, 450)  # 8 is the export example: the batch axis must be dynamic
LIBRARY = "digits_mlp_aarch64.so"


@pytest.fixture(scope="module")
def task():
    return load_task()


def _oracle(task, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return task.model.eval()(torch.from_numpy(np.asarray(x, np.float32))).numpy()


@pytest.fixture(scope="module")
def tvm():
    """TVM, imported by the checks that need it (the pure checks never pay for it)."""
    return package("tvm", "mltrack[tvm]")


@pytest.fixture(scope="module")
def relax_mod(solution, task):
    # find_spec, not an import: an unfinished to_relax fails before anyone pays for TVM
    if importlib.util.find_spec("tvm") is None:
        raise PackageSkip("needs package mltrack[tvm] (pip install mltrack[tvm])")
    model = task.model.train()  # handed over in train mode: model.eval() on it would show
    before = {k: v.clone() for k, v in model.state_dict().items()}
    was_training = model.training
    mod = solution.to_relax(model, task.x_bench[:8].clone())
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    harm = ""
    if changed or model.training != was_training:
        harm = (f"to_relax changed the caller's model ({changed[:3] or 'its mode'}): export an "
                "eval-mode copy (copy.deepcopy(model).eval())")
    return mod, harm


def _symbolic_ranges(func) -> list[tuple[int | None, int]]:
    """(min, max) of each symbolic dim that has a maximum, as from_exported_program records
    torch.export's Dim ranges in the function's attributes: here only the batch has one."""
    def bounds(key: str) -> dict[str, int]:
        try:
            return {str(k): int(v) for k, v in func.attrs[key].items()}
        except (KeyError, TypeError, AttributeError):
            return {}

    lower, upper = bounds("tir_var_lower_bound"), bounds("tir_var_upper_bound")
    return [(lower.get(k), v) for k, v in upper.items()]


def test_to_relax_returns_a_relax_module(relax_mod, tvm):
    mod, harm = relax_mod
    assert isinstance(mod, tvm.IRModule), (
        f"to_relax returned {type(mod).__module__}.{type(mod).__name__}, expected a "
        "tvm.IRModule (from_exported_program's result)")
    names = [gv.name_hint for gv in mod.get_global_vars()]
    assert "main" in names, f"the module has no function 'main' (it has {names[:6]})"
    params = mod["main"].params
    assert len(params) == 1, (
        f"the module's main takes {len(params)} inputs, expected 1 (the batch): import with "
        "keep_params_as_input=False so the weights are constants inside the module")
    ranges = _symbolic_ranges(mod["main"])
    assert ranges == [(1, 1024)], (
        f"main's symbolic dims with a declared range are {ranges} (min, max), expected one "
        "batch of 1..1024: export with dynamic_shapes=({0: torch.export.Dim('batch', min=1, "
        "max=1024)},)")
    assert not harm, harm


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
def host_build(solution, relax_mod):
    start = time.perf_counter()
    run = solution.host_runner(relax_mod[0])
    return run, time.perf_counter() - start


@pytest.fixture
def host_run(host_build):
    return host_build[0]


def test_host_runner_compiles_once(host_build, tvm, task, monkeypatch, record_metric):
    host_run, seconds = host_build
    record_metric("host build (tvm.compile, llvm)", seconds, unit="s")
    counter = _CompileCounter(tvm, monkeypatch)
    host_run(task.x_eval[:8].numpy())
    assert counter.calls == 0, (
        f"one call of the host runner compiled {counter.calls} time(s): compile once in "
        "host_runner and keep the VirtualMachine; run only feeds it")


def test_host_runner_matches_torch(task, host_run):
    for b in BATCHES:
        x = task.x_eval[:b].numpy()
        try:
            got = host_run(x)
        except Exception as exc:
            pytest.fail(f"the host runner on a batch of {b} raised {type(exc).__name__}: "
                        f"{' '.join(str(exc).split())[:300]} — export with a dynamic batch axis "
                        "(every batch 1..1024 must run)", pytrace=False)
        assert isinstance(got, np.ndarray), (
            f"the host runner returned {type(got).__module__}.{type(got).__name__}, expected a "
            "numpy array (the VM returns a tuple of one tensor: out[0].numpy())")
        assert got.dtype == np.float32 and got.shape == (b, 10), (
            f"the host runner on a batch of {b} returned {got.dtype} {got.shape}, expected "
            f"float32 ({b}, 10)")
        err = float(np.max(np.abs(got - _oracle(task, x))))
        assert err <= ATOL, (
            f"the host build differs from the torch model by {err:.3g} on a batch of {b} "
            f"(tolerance {ATOL:g})")
    x64 = task.x_eval[:5].numpy().astype(np.float64)
    got = host_run(x64)
    err = float(np.max(np.abs(np.asarray(got) - _oracle(task, x64))))
    assert getattr(got, "dtype", None) == np.float32 and err <= ATOL, (
        f"the host runner on a float64 batch returned {getattr(got, 'dtype', type(got))}, "
        f"{err:.3g} from torch: convert the input to a contiguous float32 array first")


@pytest.fixture(scope="module")
def library(solution, relax_mod, tmp_path_factory):
    if shutil.which(CROSS_CXX) is None:
        raise PackageSkip(f"needs the aarch64 cross compiler {CROSS_CXX} on PATH (Debian/"
                          "Ubuntu: apt install g++-aarch64-linux-gnu)")
    folder = tmp_path_factory.mktemp("edge")
    path = folder / LIBRARY
    start = time.perf_counter()
    try:
        returned = solution.export_for_edge(relax_mod[0], path)
    except Exception as exc:
        pytest.fail(f"export_for_edge raised {type(exc).__name__}: "
                    f"{' '.join(str(exc).split())[-400:]} — build for the aarch64 target and "
                    f"link with the cross compiler (export_library(..., fcompile="
                    f"tvm.support.cc.cross_compiler('{CROSS_CXX}')))", pytrace=False)
    return {"path": path, "returned": returned, "folder": folder,
            "seconds": time.perf_counter() - start}


def test_edge_library_is_an_aarch64_shared_object(library, record_metric):
    record_metric("aarch64 build + cross link", library["seconds"], unit="s")
    path = library["path"]
    assert os.fspath(library["returned"]) == str(path), (
        f"export_for_edge must return the path it wrote, got {library['returned']!r}")
    assert path.is_file(), f"export_for_edge wrote nothing at {path}"
    try:
        head = elf.read_header(path)
    except elf.NotElf as exc:
        pytest.fail(f"the library is not an ELF file: {exc}", pytrace=False)
    assert head.machine == elf.EM_AARCH64, (
        f"the library is built for {head.machine_name} (e_machine {head.machine}), not AArch64 "
        f"({elf.EM_AARCH64}): compile with the target {{'kind': 'llvm', 'mtriple': "
        "'aarch64-linux-gnu', ...}, not the host's 'llvm'")
    assert head.bits == 64 and head.little_endian, (
        f"the library is {head.bits}-bit, {'little' if head.little_endian else 'big'} endian: "
        "64-bit little-endian ARM (aarch64-linux-gnu) is the target")
    assert head.type == elf.ET_DYN, (
        f"the file's ELF type is {head.type}, not a shared object ({elf.ET_DYN}): write it with "
        "executable.export_library(path, fcompile=...) — a .so the TVM runtime loads")
    record_metric("library size", path.stat().st_size / 1024, unit="KiB")


def test_edge_library_exports_the_model(task, library):
    symbols = elf.dynamic_symbols(library["path"])
    defined = {s.name: s for s in symbols if s.defined}
    blob = defined.get("__tvm_ffi__library_bin")
    assert blob is not None and blob.kind == elf.STT_OBJECT and blob.size > 0, (
        "the library does not define the object __tvm_ffi__library_bin (the Relax VM program "
        "and its constants the TVM runtime loads): export the compiled executable itself")
    kernels = sorted(n for n, s in defined.items()
                     if n.startswith("__tvm_ffi_") and n != "__tvm_ffi__library_bin"
                     and s.kind == elf.STT_FUNC)
    assert kernels, "the library defines no compiled kernel (__tvm_ffi_<name> functions)"
    data = library["path"].read_bytes()
    weight = task.model.fc1.weight.detach().numpy()
    found = any(np.ascontiguousarray(w).ravel()[:256].tobytes() in data
                for w in (weight, weight.T))  # as stored, or transposed at compile time
    assert found, (
        "fc1's trained weights are not inside the library: import with "
        "keep_params_as_input=False so the weights are compiled in as constants (the board "
        "gets one file)")


def test_runs_on_a_64bit_arm_board(solution, task, request, bench, record_metric):
    ok, why = available("arm")
    hardware("arm", ok and os.uname().machine in ("aarch64", "arm64"),
             why or "the library is for 64-bit ARM; this board runs a 32-bit system")
    package("tvm", "mltrack[tvm]")
    library = request.getfixturevalue("library")
    run = solution.library_runner(library["path"])
    for b in BATCHES:
        x = task.x_eval[:b].numpy()
        got = np.asarray(run(x))
        err = float(np.max(np.abs(got - _oracle(task, x)))) if got.shape == (b, 10) else np.inf
        assert err <= ATOL, (
            f"the aarch64 library on the board differs from torch by {err:.3g} at batch {b} "
            f"(shape {got.shape})")
    x = task.x_eval[:8].numpy()
    m = bench.measure(run, x, name="aarch64 library on the board, batch 8", max_time_s=1.0,
                      memory=False, rel_iqr_max=0.5)
    record_metric("board latency, batch 8", m.median_s * 1e3, unit="ms")

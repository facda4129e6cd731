"""A lean MetaSchedule set-up for tuning with TVM on a small CPU (day 105).

    from graders.data.tvm_tuning import TARGET, lean_tuning
    database = ms.tune_tir(mod, TARGET, work_dir, max_trials_global=16,
                           num_trials_per_iter=16, seed=0, **lean_tuning())

Where MetaSchedule's time goes with its defaults (apache-tvm 0.26, measured on the 2-core
grading machine): `LocalBuilder.build` starts a fresh pool of worker processes for every batch
of candidates, and each worker imports tvm and `tvm.s_tir.tensor_intrin`, which parses
hundreds of TVMScript GPU intrinsics (each calling `inspect.stack()` with source lines for
every frame): ~30 s of CPU per import, minutes under load, so builds hit their timeout and come
back as errors. `LocalRunner` adds a worker pool of its own and `min_repeat_ms=100` per
measurement: 8 trials of a 128³ matmul took 155 s with the defaults.

`lean_tuning()` builds and times candidates in this process (no pools, no export and re-link),
registers only the x86 tensor intrinsics (all an `llvm` CPU target can use) in place of the
whole `tvm.s_tir.tensor_intrin` package, and samples candidates by replaying the design space's
traces with a random cost model, seeded by tune_tir's `seed`: the same seed proposes the same
candidates. Measured idle: a 128³ float32 matmul, 16 trials, 2.5 s of tuning; the best ran in
~115 µs against ~2.5 ms for the untuned default schedule, within 1.2e-5 of numpy.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import tempfile
import types

# The target of the grades: this CPU, one core (the tuner and the timings then agree on it).
TARGET = {"kind": "llvm", "num-cores": 1}


def cpu_intrinsics_only() -> None:
    """Make `import tvm.s_tir.tensor_intrin` register only the x86 intrinsics.

    MetaSchedule imports the package for its side effect of registering every intrinsic
    (CUDA, ROCm, Hexagon, ARM, x86). The package is replaced by an empty one with the same
    path, so that its x86 module can be imported alone."""
    if "tvm.s_tir.tensor_intrin" in sys.modules:
        return
    spec = importlib.util.find_spec("tvm.s_tir.tensor_intrin")
    package = types.ModuleType("tvm.s_tir.tensor_intrin")
    package.__path__ = list(spec.submodule_search_locations)
    package.__package__ = "tvm.s_tir.tensor_intrin"
    sys.modules["tvm.s_tir.tensor_intrin"] = package
    import tvm.s_tir.tensor_intrin.x86  # noqa: F401


def lean_tuning(number: int = 3, repeat: int = 3) -> dict:
    """Keyword arguments for `ms.tune_tir` that tune in this process, in seconds.

    Candidates are timed `number` calls per repeat, `repeat` times; MetaSchedule's own log
    lines go to its work_dir's logs, not to the terminal."""
    cpu_intrinsics_only()
    logging.getLogger("tvm.s_tir.meta_schedule").setLevel(logging.WARNING)
    builder, runner = in_process_builder_runner(number=number, repeat=repeat)
    return {"builder": builder, "runner": runner, "cost_model": "random",
            "strategy": "replay-trace", "num_tuning_cores": 1}


def _fill(arr) -> None:  # uniform [0, 1) inputs: no NaN or denormal to skew a timing
    import numpy as np

    arr.copyfrom(np.random.default_rng(0).random(tuple(arr.shape)).astype(arr.dtype))


def in_process_builder_runner(number: int = 3, repeat: int = 3):
    """A (builder, runner) pair for ms.tune_tir that builds and times candidates in this
    process: no worker pools, no export and re-link. The runner times `number` calls per
    repeat, `repeat` times, with no minimum repeat time."""
    import tvm
    from tvm.driver import build as tvm_build
    from tvm.ir.utils import derived_object
    from tvm.s_tir import meta_schedule as ms
    from tvm.s_tir.meta_schedule.builder import BuilderResult, PyBuilder
    from tvm.s_tir.meta_schedule.runner import PyRunner, PyRunnerFuture, RunnerResult
    from tvm.s_tir.meta_schedule.runner.utils import alloc_argument_common, run_evaluator_common
    from tvm.s_tir.transform import RemoveWeightLayoutRewriteBlock

    built = {}  # artifact path -> runtime module (the path is a real, empty temp folder:
    # MetaSchedule's RemoveBuildArtifact callback deletes it after the run)

    @derived_object
    class InProcessBuilder(PyBuilder):
        def build(self, build_inputs):
            results = []
            for item in build_inputs:
                try:
                    mod = RemoveWeightLayoutRewriteBlock(skip_tensor_rewrite=True)(item.mod)
                    key = os.path.join(tempfile.mkdtemp(prefix="ms-inproc-"), "module")
                    built[key] = tvm_build(mod, target=item.target)
                    results.append(BuilderResult(key, None))
                except Exception as exc:  # a failed candidate is a result, not a crash
                    results.append(BuilderResult(None, f"{type(exc).__name__}: {exc}"[:500]))
            return results

    @derived_object
    class Finished(PyRunnerFuture):
        def __init__(self, costs=None, error=None):
            super().__init__()
            self.costs, self.error = costs, error

        def done(self):
            return True

        def result(self):
            return RunnerResult(self.costs, self.error)

    config = ms.runner.EvaluatorConfig(number=number, repeat=repeat, min_repeat_ms=0)

    @derived_object
    class InProcessRunner(PyRunner):
        def run(self, runner_inputs):
            futures = []
            for item in runner_inputs:
                try:
                    module, dev = built.pop(item.artifact_path), tvm.cpu(0)
                    args = alloc_argument_common(_fill, dev,
                                                 [a.as_json() for a in item.args_info], 1)
                    futures.append(Finished(costs=run_evaluator_common(module, dev, config,
                                                                       args)))
                except Exception as exc:
                    futures.append(Finished(error=f"{type(exc).__name__}: {exc}"[:500]))
            return futures

    return InProcessBuilder(), InProcessRunner()

"""Day 119: one model, two targets — import it into TVM (torch.export -> Relax), build it for
this machine and run it, and cross-compile it for a 64-bit ARM board into a shared library
the board loads with the TVM runtime."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

os.environ.setdefault("TVM_NUM_THREADS", "1")  # before tvm starts its thread pool

AARCH64 = {"kind": "llvm", "mtriple": "aarch64-linux-gnu", "mattr": ["+neon"]}
CROSS_CXX = "aarch64-linux-gnu-g++"  # Debian/Ubuntu: apt install g++-aarch64-linux-gnu
MAX_BATCH = 1024

Runner = Callable[[np.ndarray], np.ndarray]


def _as_input(x) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32))


def to_relax(model, example):
    """The model (an eval-mode copy) exported with a dynamic batch axis and imported into
    Relax with its weights as constants."""
    import torch
    from tvm.relax.frontend.torch import from_exported_program

    net = copy.deepcopy(model).eval()
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    program = torch.export.export(net, (example,), dynamic_shapes=({0: batch},))
    return from_exported_program(program, keep_params_as_input=False)


def _vm_runner(executable_or_module) -> Runner:
    import tvm
    from tvm import relax

    main = relax.VirtualMachine(executable_or_module, tvm.cpu())["main"]

    def run(x) -> np.ndarray:
        return main(tvm.runtime.tensor(_as_input(x)))[0].numpy()  # a tuple of one tensor

    return run


def host_runner(mod) -> Runner:
    """The module built once for this machine (target "llvm"); run(x) feeds its VM and returns
    the logits as a float32 numpy array."""
    import tvm

    return _vm_runner(tvm.compile(mod, target="llvm"))


def export_for_edge(mod, path) -> Path:
    """The module built for 64-bit ARM Linux and linked by the cross compiler into the shared
    library `path`, ready to copy to the board."""
    import tvm
    from tvm.support import cc

    executable = tvm.compile(mod, target=tvm.target.Target(AARCH64))
    executable.export_library(str(path), fcompile=cc.cross_compiler(CROSS_CXX))
    return Path(path)


def library_runner(path) -> Runner:
    """On the board: the library loaded once with the TVM runtime; run(x) as host_runner's."""
    import tvm

    return _vm_runner(tvm.runtime.load_module(str(path)))

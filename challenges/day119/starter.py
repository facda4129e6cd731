"""Day 119: one model, two targets — import it into TVM (torch.export -> Relax), build it for
this machine and run it, and cross-compile it for a 64-bit ARM board into a shared library
the board loads with the TVM runtime."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

os.environ.setdefault("TVM_NUM_THREADS", "1")  # before tvm starts its thread pool

AARCH64 = {"kind": "llvm", "mtriple": "aarch64-linux-gnu", "mattr": ["+neon"]}
CROSS_CXX = "aarch64-linux-gnu-g++"  # Debian/Ubuntu: apt install g++-aarch64-linux-gnu
MAX_BATCH = 1024

Runner = Callable[[np.ndarray], np.ndarray]


def to_relax(model, example):
    """The model (an eval-mode copy) exported with a dynamic batch axis and imported into
    Relax with its weights as constants."""
    # TODO: torch.export.export with a batch Dim (1..1024) -> from_exported_program
    raise NotImplementedError("to_relax")


def host_runner(mod) -> Runner:
    """The module built once for this machine (target "llvm"); run(x) feeds its VM and returns
    the logits as a float32 numpy array."""
    # TODO: tvm.compile(mod, target="llvm") and a relax.VirtualMachine, once, here
    raise NotImplementedError("host_runner")


def export_for_edge(mod, path) -> Path:
    """The module built for 64-bit ARM Linux and linked by the cross compiler into the shared
    library `path`, ready to copy to the board."""
    # TODO: tvm.compile for the AARCH64 target; export_library with the cross compiler
    raise NotImplementedError("export_for_edge")


def library_runner(path) -> Runner:
    """On the board: the library loaded once with the TVM runtime; run(x) as host_runner's."""
    # TODO (graded only on a 64-bit ARM board): tvm.runtime.load_module -> VirtualMachine
    raise NotImplementedError("library_runner")

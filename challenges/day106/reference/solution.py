"""Day 106: one inference interface, three backends — eager torch, onnxruntime and a
TVM-compiled module (torch.export -> Relax -> tvm.compile) — each a function numpy -> numpy."""

import copy
import os
from collections.abc import Callable

import numpy as np

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported

Runner = Callable[[np.ndarray], np.ndarray]


def _as_input(x) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32))


def torch_runner(model) -> Runner:
    """Eager torch: x (b, 1, 8, 8) any float dtype -> logits (b, 10) float32 numpy."""
    import torch

    net = copy.deepcopy(model).eval()  # the caller's model keeps its mode

    def run(x) -> np.ndarray:
        with torch.no_grad():
            return net(torch.from_numpy(_as_input(x))).numpy()

    return run


def onnx_runner(path) -> Runner:
    """onnxruntime on the .onnx file, CPU provider, one thread; same interface."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name

    def run(x) -> np.ndarray:
        return sess.run(None, {name: _as_input(x)})[0]

    return run


def tvm_runner(model, example) -> Runner:
    """The model exported with a dynamic batch axis, imported into Relax, compiled for llvm
    once; run(x) feeds the Relax VM and returns numpy."""
    import torch
    import tvm
    from tvm import relax
    from tvm.relax.frontend.torch import from_exported_program

    net = copy.deepcopy(model).eval()
    batch = torch.export.Dim("batch", min=1, max=1024)
    program = torch.export.export(net, (example,), dynamic_shapes=({0: batch},))
    mod = from_exported_program(program, keep_params_as_input=False)
    vm = relax.VirtualMachine(tvm.compile(mod, target="llvm"), tvm.cpu())
    main = vm["main"]

    def run(x) -> np.ndarray:
        out = main(tvm.runtime.tensor(_as_input(x)))
        return out[0].numpy()  # the exported program returns a tuple of one tensor

    return run

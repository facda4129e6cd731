"""The backend interface of the phase-5 demo (days 127, 128, 133) and the grader's own
reference backends.

    from graders.data.demo_backends import EagerBackend, OnnxBackend, interface_problems
    task = capstone2.load_task()          # the demo model: trained DigitsMLP(512), the data
    b = OnnxBackend()
    b.prepare(task.model, task.calib)     # once: copies, exports, compiles, builds sessions
    b.predict(task.x_bench.numpy())       # float32 numpy (N, 1, 8, 8) -> float32 (N, 10)

A backend is any object with a `name` (str), `prepare(model, calib)` (returns None; the
model is left as it came) and `predict(x)` (numpy in, float32 numpy logits out, nothing
expensive inside). The grader's references are built from the model's weights alone, so
they do not share code with what they check: eager torch, `torch.compile` (inductor; about
10 s to compile the first time on a cold cache, so days use it at most once per grade) and
onnxruntime on an ONNX graph written by hand from the weights (no exporter).
"""

from __future__ import annotations

import copy
import os
from typing import Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from graders.data.capstone2 import changes, state_of

LAYERS = ("fc1", "fc2", "fc3")  # DigitsMLP's Linear layers, in order
N_CLASSES = 10


@runtime_checkable
class Backend(Protocol):
    """What every backend of the demo provides."""

    name: str

    def prepare(self, model: nn.Module, calib: torch.Tensor) -> None: ...

    def predict(self, x: np.ndarray) -> np.ndarray: ...


def as_input(x) -> np.ndarray:
    """(N, 1, 8, 8) images of any float dtype or layout -> contiguous float32 numpy."""
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32))


def weights(model: nn.Module) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(W (out, in), b (out,))] of fc1, fc2, fc3 as float32 numpy copies."""
    return [(getattr(model, n).weight.detach().numpy().copy(),
             getattr(model, n).bias.detach().numpy().copy()) for n in LAYERS]


class EagerBackend:
    """torch eager, eval mode, under inference_mode, on a private copy of the model."""

    name = "torch-eager"

    def prepare(self, model: nn.Module, calib: torch.Tensor) -> None:
        self.net = copy.deepcopy(model).eval()

    def predict(self, x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self.net(torch.from_numpy(as_input(x))).numpy()


class CompiledBackend(EagerBackend):
    """torch.compile (inductor, dynamic batch): compiled on the first predict."""

    name = "torch-compile"

    def prepare(self, model: nn.Module, calib: torch.Tensor) -> None:
        super().prepare(model, calib)
        self.fn = torch.compile(self.net, dynamic=True)
        with torch.inference_mode():
            self.fn(calib[:2].contiguous())  # compile now, not inside a timed call

    def predict(self, x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self.fn(torch.from_numpy(as_input(x))).numpy()


def mlp_graph(model: nn.Module):
    """The MLP as an ONNX graph written from its weights (opset 17): Flatten -> (MatMul ->
    Add -> Relu) x2 -> MatMul -> Add. Input "input" (batch, 1, 8, 8), output "logits"."""
    from onnx import TensorProto, helper, numpy_helper

    inits, nodes, x = [], [helper.make_node("Flatten", ["input"], ["flat"], axis=1)], "flat"
    for i, (w, b) in enumerate(weights(model)):
        inits += [numpy_helper.from_array(np.ascontiguousarray(w.T), f"w{i}"),
                  numpy_helper.from_array(b, f"b{i}")]
        nodes += [helper.make_node("MatMul", [x, f"w{i}"], [f"m{i}"]),
                  helper.make_node("Add", [f"m{i}", f"b{i}"], [f"a{i}"])]
        x = f"a{i}"
        if i < len(LAYERS) - 1:
            nodes.append(helper.make_node("Relu", [x], [f"r{i}"]))
            x = f"r{i}"
    nodes[-1].output[0] = "logits"
    graph = helper.make_graph(
        nodes, "demo_mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", N_CLASSES])],
        inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


class OnnxBackend:
    """onnxruntime, CPU provider, one intra- and one inter-op thread, one session."""

    name = "onnxruntime"

    def prepare(self, model: nn.Module, calib: torch.Tensor) -> None:
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        self.sess = ort.InferenceSession(mlp_graph(model).SerializeToString(), opts,
                                         providers=["CPUExecutionProvider"])

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.sess.run(None, {"input": as_input(x)})[0]


def interface_problems(backend: object, model: nn.Module, calib: torch.Tensor,
                       x: np.ndarray, *, what: str = "the backend") -> list[str]:
    """Everything wrong with `backend` against the interface: a str `name`, `prepare` leaves
    `model` unchanged, `predict` of `x` (and of its first image alone) gives float32 numpy
    logits (N, 10). Prepares the backend (once)."""
    problems = []
    name = getattr(backend, "name", None)
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{what} has no `name` (a non-empty str)")
    before = state_of(model)
    backend.prepare(model, calib)
    changed = changes(model, before)
    if changed:
        problems.append(f"{what}.prepare(model, calib) modified the model: {changed}")
    for batch in (x, x[:1]):
        out = backend.predict(batch)
        if not isinstance(out, np.ndarray):
            problems.append(f"{what}.predict returned a {type(out).__name__}, not a numpy array")
        elif out.dtype != np.float32 or out.shape != (len(batch), N_CLASSES):
            problems.append(f"{what}.predict of {len(batch)} image(s) returned {out.dtype} "
                            f"{out.shape}; expected float32 ({len(batch)}, {N_CLASSES})")
        if problems:
            break
    return problems


__all__ = ["Backend", "CompiledBackend", "EagerBackend", "LAYERS", "N_CLASSES", "OnnxBackend",
           "as_input", "interface_problems", "mlp_graph", "weights"]

"""Day 128 reference: the demo model behind three backends — torch eager, TorchScript
(trace + freeze) and onnxruntime — measured at batch 1 (latency) and batch 256
(throughput) on one thread, in one table with its ranking claims."""

import copy
import os
import statistics
import time

import numpy as np
import torch

from graders import bench

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported
BATCHES = (1, 256)
MAX_TIME_S = 1.0
AGREE_ATOL = 1e-4


def _as_input(x) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32))


class EagerBackend:
    name = "torch-eager"

    def prepare(self, model, calib) -> None:
        self.net = copy.deepcopy(model).eval()

    def predict(self, x) -> np.ndarray:
        with torch.inference_mode():
            return self.net(torch.from_numpy(_as_input(x))).numpy()


class ScriptBackend(EagerBackend):
    """TorchScript: the traced graph, frozen (weights folded in as constants)."""

    name = "torch-script"

    def prepare(self, model, calib) -> None:
        net = copy.deepcopy(model).eval()
        with torch.no_grad():
            self.net = torch.jit.freeze(torch.jit.trace(net, calib[:2].contiguous()))


class OnnxBackend:
    name = "onnxruntime"

    def prepare(self, model, calib) -> None:
        import io

        import onnxruntime as ort

        buf = io.BytesIO()
        net = copy.deepcopy(model).eval()
        torch.onnx.export(net, (calib[:2].contiguous(),), buf, input_names=["input"],
                          output_names=["logits"], dynamic_axes={"input": {0: "batch"}},
                          dynamo=False)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        self.sess = ort.InferenceSession(buf.getvalue(), opts,
                                         providers=["CPUExecutionProvider"])

    def predict(self, x) -> np.ndarray:
        return self.sess.run(None, {"input": _as_input(x)})[0]


class CompiledBackend(EagerBackend):
    """torch.compile (inductor), called once, in prepare."""

    name = "torch-compile"

    def prepare(self, model, calib) -> None:
        super().prepare(model, calib)
        self.net = torch.compile(self.net)


def make_backends() -> list:
    return [EagerBackend(), ScriptBackend(), OnnxBackend()]


def benchmark(backend, x) -> dict:
    """One row: the backend's predict on x, one thread, thread CPU time, ms per call."""
    m = bench.measure(backend.predict, x, timer=time.thread_time, memory=False, threads=1,
                      min_time_s=0.1, max_time_s=MAX_TIME_S)
    samples = [s * 1e3 for s in m.samples_s]
    median = statistics.median(samples)
    return {"backend": backend.name, "batch": len(x), "median_ms": median,
            "samples_ms": samples, "throughput_ips": len(x) / (median / 1e3)}


def analyse(backends, model, calib, x_bench) -> dict:
    torch.set_num_threads(1)
    x = x_bench.numpy() if isinstance(x_bench, torch.Tensor) else np.asarray(x_bench)
    for b in backends:
        b.prepare(model, calib)
    ref = backends[0].predict(x)
    diffs = {b.name: float(np.abs(b.predict(x) - ref).max()) for b in backends}
    rows = [benchmark(b, x[:batch]) for b in backends for batch in BATCHES]
    one = [r for r in rows if r["batch"] == 1]
    many = [r for r in rows if r["batch"] == BATCHES[1]]
    return {"rows": rows, "threads": 1,
            "fastest_latency": min(one, key=lambda r: r["median_ms"])["backend"],
            "fastest_throughput": max(many, key=lambda r: r["throughput_ips"])["backend"],
            "max_abs_diff": diffs,
            "agree": all(d <= AGREE_ATOL for d in diffs.values())}

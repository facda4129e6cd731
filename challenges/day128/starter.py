"""Day 128: the demo model behind three backends — torch eager, TorchScript (trace +
freeze) and onnxruntime — measured at batch 1 (latency) and batch 256 (throughput) on one
thread, in one table with its ranking claims."""

import os

import numpy as np

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported
BATCHES = (1, 256)
MAX_TIME_S = 1.0
AGREE_ATOL = 1e-4


class EagerBackend:
    name = "torch-eager"

    def prepare(self, model, calib) -> None:
        raise NotImplementedError

    def predict(self, x) -> np.ndarray:
        raise NotImplementedError


class ScriptBackend:
    name = "torch-script"

    def prepare(self, model, calib) -> None:
        raise NotImplementedError

    def predict(self, x) -> np.ndarray:
        raise NotImplementedError


class OnnxBackend:
    name = "onnxruntime"

    def prepare(self, model, calib) -> None:
        raise NotImplementedError

    def predict(self, x) -> np.ndarray:
        raise NotImplementedError


class CompiledBackend:
    """torch.compile (inductor), called once, in prepare."""

    name = "torch-compile"

    def prepare(self, model, calib) -> None:
        raise NotImplementedError

    def predict(self, x) -> np.ndarray:
        raise NotImplementedError


def make_backends() -> list:
    """[EagerBackend(), ScriptBackend(), OnnxBackend()], not yet prepared."""
    raise NotImplementedError


def benchmark(backend, x) -> dict:
    """One row {backend, batch, median_ms, samples_ms, throughput_ips} for backend.predict(x)."""
    raise NotImplementedError


def analyse(backends, model, calib, x_bench) -> dict:
    """Prepare each backend once, check they agree, measure batch 1 and 256: the report."""
    raise NotImplementedError

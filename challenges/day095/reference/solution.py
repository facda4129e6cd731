"""Day 95 reference: post-training static quantisation and quantisation-aware training of the
same CNN, measured side by side, and the conclusions read off the measured table."""

import copy
import statistics
import time

import torch
import torch.ao.quantization as tq
from torch import nn

from graders.data.digits_cnn import size_bytes, train

FUSE = [["conv1", "relu1"], ["conv2", "relu2"], ["fc1", "relu3"]]


def ptq(model: nn.Module, calibration: torch.Tensor) -> nn.Module:
    float_model = copy.deepcopy(model).eval()  # the caller keeps its fp32 model
    tq.fuse_modules(float_model, FUSE, inplace=True)
    wrapped = nn.Sequential(tq.QuantStub(), float_model, tq.DeQuantStub()).eval()
    wrapped.qconfig = tq.get_default_qconfig(torch.backends.quantized.engine)
    prepared = tq.prepare(wrapped)
    with torch.no_grad():
        for i in range(0, len(calibration), 64):  # observers record activation ranges
            prepared(calibration[i:i + 64])
    return tq.convert(prepared)


def qat(model: nn.Module, x_train: torch.Tensor, y_train: torch.Tensor, epochs: int = 1,
        lr: float = 1e-3, seed: int = 0) -> nn.Module:
    float_model = copy.deepcopy(model).train()
    tq.fuse_modules_qat(float_model, FUSE, inplace=True)  # the training-mode fusion
    wrapped = nn.Sequential(tq.QuantStub(), float_model, tq.DeQuantStub()).train()
    wrapped.qconfig = tq.get_default_qat_qconfig(torch.backends.quantized.engine)
    prepared = tq.prepare_qat(wrapped)  # fake-quantise weights and activations while training
    # fine-tune from the trained weights: the rounding is in the forward pass, so the weights
    # learn to live with it (straight-through gradients)
    train(prepared, x_train, y_train, epochs=epochs, lr=lr, seed=seed)
    return tq.convert(prepared.eval())


@torch.inference_mode()
def _latency_ms(model: nn.Module, x: torch.Tensor, warmup: int = 2, repeats: int = 15) -> float:
    for _ in range(warmup):
        model(x)
    times = []
    for _ in range(repeats):
        t = time.thread_time()  # CPU time of this thread: blind to other processes
        model(x)
        times.append((time.thread_time() - t) * 1e3)
    return statistics.median(times)


@torch.inference_mode()
def measure(models: dict[str, nn.Module], x_test: torch.Tensor, y_test: torch.Tensor,
            x_bench: torch.Tensor) -> list[dict]:
    rows = []
    for method, model in models.items():
        correct = int((model(x_test).argmax(1) == y_test).sum())
        rows.append({"method": method, "accuracy_pt": 100 * correct / len(y_test),
                     "size_bytes": size_bytes(model),
                     "latency_ms": _latency_ms(model, x_bench)})
    return rows


def conclude(rows: list[dict]) -> dict:
    by = {r["method"]: r for r in rows}
    fp32, p, q = by["fp32"], by["ptq"], by["qat"]
    gain = q["accuracy_pt"] - p["accuracy_pt"]
    return {
        "engine": torch.backends.quantized.engine,
        "more_accurate": "qat" if gain > 0 else "ptq" if gain < 0 else "tie",
        "accuracy_gain_pt": gain,
        "ptq_drop_pt": fp32["accuracy_pt"] - p["accuracy_pt"],
        "qat_drop_pt": fp32["accuracy_pt"] - q["accuracy_pt"],
        "ptq_size_ratio": p["size_bytes"] / fp32["size_bytes"],
        "qat_size_ratio": q["size_bytes"] / fp32["size_bytes"],
        "ptq_speedup": fp32["latency_ms"] / p["latency_ms"],
        "qat_speedup": fp32["latency_ms"] / q["latency_ms"],
    }

"""Day 95: PTQ vs QAT — quantise the same CNN both ways, measure both, and write the
conclusions as data that the numbers must bear out."""

import torch
from torch import nn


def ptq(model: nn.Module, calibration: torch.Tensor) -> nn.Module:
    """Post-training static int8 quantisation (eager mode) of a copy of `model` with the
    default qconfig of torch.backends.quantized.engine, calibrated on `calibration`.
    Float32 images in, float32 logits out. `model` is not modified."""
    # TODO: deep-copy, fuse conv/linear + ReLU, wrap in QuantStub/DeQuantStub, set the qconfig
    # TODO: prepare, run the calibration images through, convert
    raise NotImplementedError("ptq")


def qat(model: nn.Module, x_train: torch.Tensor, y_train: torch.Tensor, epochs: int = 1,
        lr: float = 1e-3, seed: int = 0) -> nn.Module:
    """Quantisation-aware training: fake-quantise a copy of `model` with the engine's default
    QAT qconfig, fine-tune it on (x_train, y_train) for `epochs` with
    graders.data.digits_cnn.train(..., lr=lr, seed=seed), and convert it to int8.
    `model` is not modified."""
    # TODO: deep-copy in training mode, fuse_modules_qat, stubs, QAT qconfig, prepare_qat
    # TODO: fine-tune, then convert in eval mode
    raise NotImplementedError("qat")


def measure(models: dict[str, nn.Module], x_test: torch.Tensor, y_test: torch.Tensor,
            x_bench: torch.Tensor) -> list[dict]:
    """One row per model, in the dict's order: {"method": name, "accuracy_pt": percent
    correct on (x_test, y_test), "size_bytes": graders.data.digits_cnn.size_bytes(model),
    "latency_ms": median time of one forward pass of x_bench, one thread}."""
    # TODO: accuracy, size and latency of each model
    raise NotImplementedError("measure")


def conclude(rows: list[dict]) -> dict:
    """The conclusions of a table with the methods "fp32", "ptq" and "qat", as data (see the
    spec for the keys)."""
    # TODO: engine, more_accurate, accuracy_gain_pt, the drops, size ratios and speed-ups
    raise NotImplementedError("conclude")

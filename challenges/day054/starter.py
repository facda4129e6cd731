"""Day 54: dynamic int8 quantisation vs unstructured (magnitude) pruning, measured side by side."""

import time

import torch
from torch import nn


def dynamic_quantize(model: nn.Module) -> nn.Module:
    """A copy of `model` whose Linear layers are dynamically quantised to int8 (qint8)."""
    raise NotImplementedError("dynamic_quantize")


def magnitude_prune(model: nn.Module, sparsity: float) -> nn.Module:
    """A copy of `model` in which the fraction `sparsity` of all Linear weights with the
    smallest |w| (one global threshold) are zero — permanently (no masks left behind)."""
    raise NotImplementedError("magnitude_prune")


def csr_bytes(model: nn.Module) -> int:
    """Bytes of every Linear layer's weight as a torch sparse CSR tensor (values,
    col_indices, crow_indices) plus its bias, dense."""
    raise NotImplementedError("csr_bytes")


def measure_latency_ms(model: nn.Module, x: torch.Tensor, timer=time.perf_counter,
                       repeats: int = 20) -> float:
    """Median milliseconds of one forward pass of `x`, timed with `timer`, after a warm-up."""
    raise NotImplementedError("measure_latency_ms")


def comparison_table(model: nn.Module, x_test: torch.Tensor, y_test: torch.Tensor,
                     sparsities=(0.5, 0.9), batch: int = 64,
                     timer=time.perf_counter) -> list[dict]:
    """Rows fp32, dynamic-int8, pruned-50%, pruned-90% (one per sparsity), each a dict with
    name, size_bytes, csr_bytes, accuracy, latency_ms, sparsity — every figure measured."""
    # TODO: build the variants, then measure each one (see spec.md for each column)
    raise NotImplementedError("comparison_table")

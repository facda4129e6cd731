"""Day 87 reference: the capstone prototype — dynamic int8 quantisation of the MLP's linear
layers (int8 weights, activations quantised per batch on the fly)."""

import copy

import torch
from torch import nn
from torch.ao.quantization import quantize_dynamic


def prepare(model: nn.Module, calib: torch.Tensor):
    """An int8 copy of `model`; dynamic quantisation needs no calibration, so `calib` is
    unused (static quantisation would run it through observers)."""
    # a copy: the caller keeps its fp32 model (quantize_dynamic swaps modules)
    int8 = quantize_dynamic(copy.deepcopy(model).eval(), {nn.Linear}, dtype=torch.qint8)

    def int8_dynamic(x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return int8(x)  # float32 logits: the int8 layers dequantise their outputs

    return int8_dynamic

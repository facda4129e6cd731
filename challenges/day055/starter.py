"""Day 55: quantisation-aware training (QAT) vs post-training quantisation (PTQ) at low bits."""

import torch
import torch.ao.quantization as tq
from torch import nn


def fake_quant_qconfig(weight_bits: int, act_bits: int) -> tq.QConfig:
    """FakeQuantize for activations (per-tensor affine, 0 .. 2**act_bits - 1) and weights
    (per-channel symmetric on axis 0, -2**(weight_bits-1) .. 2**(weight_bits-1) - 1)."""
    raise NotImplementedError("fake_quant_qconfig")


def ptq(model: nn.Module, calibration: torch.Tensor, weight_bits: int = 2,
        act_bits: int = 3) -> nn.Module:
    """A fake-quantised copy of `model`, its observers calibrated on `calibration` and then
    frozen; eval mode."""
    raise NotImplementedError("ptq")


def qat(model: nn.Module, x: torch.Tensor, y: torch.Tensor, weight_bits: int = 2,
        act_bits: int = 3, epochs: int = 2, lr: float = 1e-3, seed: int = 0) -> nn.Module:
    """A fake-quantised copy of `model`, fine-tuned on (x, y) with fake quantisation on;
    observers frozen afterwards; eval mode."""
    # TODO: fuse, QuantStub/DeQuantStub, qconfig, prepare_qat; train; freeze observers
    raise NotImplementedError("qat")

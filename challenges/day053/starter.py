"""Day 53: post-training static quantisation (int8) of the digits CNN."""

import torch
from torch import nn


def quantize_static(model: nn.Module, calibration: torch.Tensor) -> nn.Module:
    """An int8 copy of the trained fp32 `model` (a graders.data.digits_cnn.DigitsCNN).

    `calibration`: float32 images (N, 1, 8, 8) to observe activation ranges on.
    The result takes float images and returns float logits (N, 10); every conv and linear
    layer runs in int8 (weights and activations). `model` itself must not change.
    """
    # TODO: copy the model; fuse conv+relu and linear+relu
    # TODO: wrap it between a QuantStub and a DeQuantStub; set a qconfig for
    #       torch.backends.quantized.engine; prepare
    # TODO: run the calibration images through it, then convert
    raise NotImplementedError("quantize_static")

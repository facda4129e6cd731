"""Day 53 reference: post-training static quantisation of the digits CNN in eager mode."""

import copy

import torch
import torch.ao.quantization as tq
from torch import nn


def quantize_static(model: nn.Module, calibration: torch.Tensor) -> nn.Module:
    # a copy: prepare/convert rewrite modules in place, and the caller keeps its fp32 model
    float_model = copy.deepcopy(model).eval()
    # conv+relu and linear+relu become one int8 op each (no int8 round trip in between)
    tq.fuse_modules(float_model, [["conv1", "relu1"], ["conv2", "relu2"], ["fc1", "relu3"]],
                    inplace=True)
    # QuantStub quantises the float input, DeQuantStub turns int8 logits back into floats
    wrapped = nn.Sequential(tq.QuantStub(), float_model, tq.DeQuantStub()).eval()
    wrapped.qconfig = tq.get_default_qconfig(torch.backends.quantized.engine)
    prepared = tq.prepare(wrapped)  # observers record activation ranges
    with torch.no_grad():
        for i in range(0, len(calibration), 64):
            prepared(calibration[i:i + 64])
    return tq.convert(prepared)  # int8 weights, scales and zero points from the observers

# mistake: fake quantisation is off while fine-tuning, on again afterwards (PTQ of a fine-tune)
# expect: keeps fake quantisation on during training


import copy

import torch
import torch.ao.quantization as tq
from torch import nn

from graders.data.digits_cnn import train

FUSE = [["conv1", "relu1"], ["conv2", "relu2"], ["fc1", "relu3"]]


def fake_quant_qconfig(weight_bits: int, act_bits: int) -> tq.QConfig:
    activation = tq.FakeQuantize.with_args(
        observer=tq.MovingAverageMinMaxObserver, dtype=torch.quint8,
        qscheme=torch.per_tensor_affine, quant_min=0, quant_max=2 ** act_bits - 1)
    # weights: plain min/max per output channel, so the scale follows the weights exactly as
    # training moves them (a moving average would lag behind)
    weight = tq.FakeQuantize.with_args(
        observer=tq.PerChannelMinMaxObserver, dtype=torch.qint8,
        qscheme=torch.per_channel_symmetric, ch_axis=0,
        quant_min=-(2 ** (weight_bits - 1)), quant_max=2 ** (weight_bits - 1) - 1)
    return tq.QConfig(activation=activation, weight=weight)


def _prepare(model: nn.Module, weight_bits: int, act_bits: int) -> nn.Module:
    m = copy.deepcopy(model).train()
    tq.fuse_modules_qat(m, FUSE, inplace=True)
    wrapped = nn.Sequential(tq.QuantStub(), m, tq.DeQuantStub())
    wrapped.qconfig = fake_quant_qconfig(weight_bits, act_bits)
    return tq.prepare_qat(wrapped)  # every conv/linear gets weight and output fake-quants


def _calibrate(model: nn.Module, x: torch.Tensor) -> None:
    """Let the observers see real activations (with float arithmetic) before quantising."""
    model.apply(tq.disable_fake_quant)
    with torch.no_grad():
        for i in range(0, len(x), 128):
            model(x[i:i + 128])
    model.apply(tq.enable_fake_quant)


def _freeze(model: nn.Module) -> nn.Module:
    model.apply(tq.disable_observer)  # evaluation must not move the ranges
    return model.eval()


def ptq(model, calibration, weight_bits=2, act_bits=3):
    q = _prepare(model, weight_bits, act_bits)
    _calibrate(q, calibration)
    return _freeze(q)


def qat(model, x, y, weight_bits=2, act_bits=3, epochs=2, lr=1e-3, seed=0):
    q = _prepare(model, weight_bits, act_bits)
    # fake quantisation stays on while training: the forward pass sees the rounded weights
    # and activations, the straight-through estimator lets gradients pass the rounding
    q.apply(tq.disable_fake_quant)  # train in float first, quantise at the end
    train(q, x, y, epochs=epochs, lr=lr, seed=seed)
    q.apply(tq.enable_fake_quant)
    return _freeze(q)

"""The model of the PTQ-vs-QAT study (day 95): a small digits CNN with one outlier channel.

    from graders.data.quant_study import study_cnn, FUSE
    model = study_cnn()   # DigitsCNN(8, 16, 64), trained (seed 0), eval mode: ~94 % on the test set

It is `digits_cnn.trained_cnn(8, 16, 64)` with output channel OUTLIER_CHANNEL of conv1
(weights and bias) scaled up by OUTLIER_SCALE and the matching input channel of conv2 scaled
down by the same factor. ReLU is positively homogeneous, so the float model computes the
same function; but the activation between conv1 and conv2 now has one channel 150× larger
than the rest. Static int8 quantises an activation tensor with one scale (per tensor), so
post-training quantisation rounds the other 7 channels coarsely and loses points;
quantisation-aware training lets the weights adapt to that rounding and wins them back.
(Per-channel weight quantisation absorbs the scaled weights themselves.)
"""

from __future__ import annotations

import torch

from graders.data.digits_cnn import DigitsCNN, trained_cnn

WIDTHS = (8, 16, 64)  # conv1 channels, conv2 channels, fc1 units
OUTLIER_CHANNEL, OUTLIER_SCALE = 0, 150.0
FUSE = [["conv1", "relu1"], ["conv2", "relu2"], ["fc1", "relu3"]]  # eager-mode fusion groups


def study_cnn(seed: int = 0) -> DigitsCNN:
    """A fresh trained DigitsCNN(8, 16, 64) with the outlier channel (eval mode, float32)."""
    model = trained_cnn(*WIDTHS, seed=seed)
    with torch.no_grad():
        model.conv1.weight[OUTLIER_CHANNEL] *= OUTLIER_SCALE
        model.conv1.bias[OUTLIER_CHANNEL] *= OUTLIER_SCALE
        model.conv2.weight[:, OUTLIER_CHANNEL] /= OUTLIER_SCALE
    return model.eval()


__all__ = ["FUSE", "OUTLIER_CHANNEL", "OUTLIER_SCALE", "WIDTHS", "study_cnn"]

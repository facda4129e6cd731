"""Day 58 (capstone 1): an optimised CNN inference pipeline — pruned, distilled, quantised."""

import torch
from torch import nn

from graders.data.digits_cnn import DigitsCNN


def optimize(teacher: DigitsCNN, x: torch.Tensor, y: torch.Tensor) -> dict[str, nn.Module]:
    """Compress the trained fp32 `teacher` using the training data (x, y).

    Returns the three stages:
      "pruned":    a physically smaller DigitsCNN (fewer channels / hidden units);
      "distilled": that network after training with a distillation loss against `teacher`;
      "quantized": the distilled network statically quantised to int8 (float in, float out).
    """
    # TODO: prune (day 56), distill (day 57), quantise (day 53) — without changing `teacher`
    raise NotImplementedError("optimize")

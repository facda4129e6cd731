"""The model of the mixed-precision day (93): the digits MLP with two planted hazards.

    from graders.data.mixed_precision import tuner_mlp, LAYERS, BENCH_BATCH
    model = tuner_mlp()     # DigitsMLP(512): fc1 64→512, fc2 512→512, fc3 512→10; eval mode

It is `digits_cnn.trained_mlp(512)` (seed 0, ~98-99 % on the 450 test images) with hidden
unit OUTLIER_UNIT of fc1 scaled up by OUTLIER_SCALE and the matching input column of fc2
scaled down by the same factor. ReLU is positively homogeneous (relu(s·z) = s·relu(z)), so
the float function is unchanged up to rounding — but fc1's weights now span a range 500×
wider than before, the kind of outlier that trained networks do grow (Dettmers et al.,
LLM.int8(), 2022). One per-tensor int8 scale for all of fc1 then rounds every other weight
to zero: that layer cannot be int8, while the others can. And fc3's bias is raised by
FC3_OFFSET in every class: softmax and argmax ignore a common shift, so the classifier is the
same, but every logit now lies near 2048, where neighbouring bfloat16 numbers (8 significant
bits) are 16 apart while the logits of different classes differ by less: fc3 cannot be bf16,
while it can be int8 (dynamic int8 keeps the bias in float32).
"""

from __future__ import annotations

import torch

from graders.data.digits_cnn import DigitsMLP, trained_mlp

LAYERS = ("fc1", "fc2", "fc3")  # the Linear layers a plan names, in forward order
PRECISIONS = ("fp32", "bf16", "int8")
HIDDEN = 512
OUTLIER_UNIT, OUTLIER_SCALE = 0, 500.0
FC3_OFFSET = 2048.0
BENCH_BATCH = 256  # latency is measured on the first 256 test images


def tuner_mlp(seed: int = 0) -> DigitsMLP:
    """A fresh trained DigitsMLP(512) with the outlier unit and the offset logits (eval
    mode, float32)."""
    model = trained_mlp(HIDDEN, seed=seed)
    with torch.no_grad():
        model.fc1.weight[OUTLIER_UNIT] *= OUTLIER_SCALE
        model.fc1.bias[OUTLIER_UNIT] *= OUTLIER_SCALE
        model.fc2.weight[:, OUTLIER_UNIT] /= OUTLIER_SCALE
        model.fc3.bias += FC3_OFFSET
    return model.eval()


__all__ = ["BENCH_BATCH", "FC3_OFFSET", "HIDDEN", "LAYERS", "OUTLIER_SCALE", "OUTLIER_UNIT",
           "PRECISIONS", "tuner_mlp"]

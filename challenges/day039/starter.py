"""Day 39: the ResNet basic block and a small ResNet for 32x32 colour images.

Training data:
    from graders.data.images import load_images
    X_train, y_train, X_test, y_test = load_images()
"""

import torch  # noqa: F401  (you will need them)
from torch import nn


class BasicBlock(nn.Module):
    """out = relu(F(x) + shortcut(x)), with F = conv3x3(stride) -> BN -> ReLU -> conv3x3 -> BN.
    Convolutions have no bias. The shortcut is the identity when stride == 1 and
    in_channels == out_channels, otherwise a 1x1 conv with the same stride followed by BN."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        # TODO
        raise NotImplementedError("BasicBlock.__init__")

    def forward(self, x):
        # TODO
        raise NotImplementedError("BasicBlock.forward")


class SmallResNet(nn.Module):
    """(N, 3, 32, 32) -> (N, num_classes) logits: a stem, at least two BasicBlocks (one of
    them with stride 2), global pooling and a Linear layer; at most 100,000 parameters."""

    def __init__(self, num_classes=10):
        super().__init__()
        # TODO
        raise NotImplementedError("SmallResNet.__init__")

    def forward(self, x):
        # TODO
        raise NotImplementedError("SmallResNet.forward")


def train_resnet(X, y, seed=0):
    """Train a SmallResNet on X (N, 3, 32, 32) float32 and y (N,) int64; return it.
    Call torch.manual_seed(seed) first."""
    # TODO
    raise NotImplementedError("train_resnet")

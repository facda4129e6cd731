"""The SimCLR task of day 90: CIFAR-shaped images at 16×16, a small CNN encoder with its
projection head, and the linear probe that scores an encoder's features.

The images are `graders.data.images` (3×32×32, ten shape classes, random colours and
places) average-pooled 2×2 to 3×16×16, so a short self-supervised run fits in seconds:

    from graders.data.simclr_task import load_data, make_model, probe_accuracy
    data = load_data()                 # x_train (1000, 3, 16, 16) float32 in [0, 1], ...
    encoder, head = make_model(seed=0)  # 64 features, projected to 32
    probe_accuracy(encoder, data)      # linear probe on frozen features: test accuracy
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from graders.data.images import make_images

TRAIN_SIZE, TEST_SIZE = 1000, 500
FEATURES, PROJECTION = 64, 32


@dataclass(frozen=True)
class SimCLRData:
    x_train: torch.Tensor  # (1000, 3, 16, 16) float32 in [0, 1]
    y_train: torch.Tensor  # (1000,) int64, labels for the probe only
    x_test: torch.Tensor  # (500, 3, 16, 16)
    y_test: torch.Tensor


def _small(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = make_images(n, seed=seed)
    return F.avg_pool2d(torch.from_numpy(x), 2), torch.from_numpy(y)


def load_data() -> SimCLRData:
    """The fixed split (train: seed 0, test: seed 1 of make_images), 16×16."""
    x_train, y_train = _small(TRAIN_SIZE, 0)
    x_test, y_test = _small(TEST_SIZE, 1)
    return SimCLRData(x_train, y_train, x_test, y_test)


def _block(c_in: int, c_out: int) -> list[nn.Module]:
    # BatchNorm: without it a contrastive run this short barely moves the features
    return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]


def make_model(seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """(encoder, head): the encoder maps (N, 3, 16, 16) to (N, 64) features, the head those
    to (N, 32) projections; weights drawn with torch.manual_seed(seed)."""
    torch.manual_seed(seed)
    encoder = nn.Sequential(*_block(3, 16), nn.MaxPool2d(2), *_block(16, 32), nn.MaxPool2d(2),
                            *_block(32, FEATURES), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    head = nn.Sequential(nn.Linear(FEATURES, 64), nn.ReLU(), nn.Linear(64, PROJECTION))
    return encoder, head


def features(encoder: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Frozen features: eval mode, no gradients (the mode is restored afterwards)."""
    was = encoder.training
    encoder.eval()
    try:
        with torch.no_grad():
            return encoder(x)
    finally:
        encoder.train(was)


def probe_accuracy(encoder: nn.Module, data: SimCLRData) -> float:
    """Test accuracy of a linear probe on the encoder's frozen features: StandardScaler,
    then LogisticRegression(C=1.0, max_iter=1000) (lbfgs), fitted on the train split."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    a = features(encoder, data.x_train).double().numpy()
    b = features(encoder, data.x_test).double().numpy()
    scaler = StandardScaler().fit(a)
    clf = LogisticRegression(C=1.0, max_iter=1000).fit(scaler.transform(a), data.y_train.numpy())
    return float(clf.score(scaler.transform(b), data.y_test.numpy()))

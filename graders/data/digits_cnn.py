"""The handwritten digits as 1×8×8 images, and the small models of the compression days
(51–59): a CNN family of adjustable width, an MLP, one training recipe, accuracy and size.

    from graders.data.digits_cnn import load_digits_images, DigitsCNN, train, accuracy
    data = load_digits_images()                # fixed split: 1347 train, 450 test
    model = DigitsCNN()                        # conv1 1→32, conv2 32→64, fc1 1024→256, fc2 256→10
    train(model, data.x_train, data.y_train)   # 5 epochs of Adam, seeded: ~97-98 % on the test set
    accuracy(model, data.x_test, data.y_test)

Images are float32 tensors (N, 1, 8, 8) with pixel values in [0, 1] (sklearn's 0..16
divided by 16), labels int64 (N,). Everything is offline (sklearn's bundled copy) and
deterministic for a given seed on a given machine; graders run torch on one thread.

Graders whose solution trains with torch.optim must `import torch._dynamo` at the top: the
first optimiser imports it, and it wraps torch.manual_seed, which the grader's module guard
would otherwise take for the solution's doing.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn

TRAIN_SIZE, SPLIT_SEED = 1347, 0


@dataclass(frozen=True)
class DigitsSplit:
    x_train: torch.Tensor  # (1347, 1, 8, 8) float32 in [0, 1]
    y_train: torch.Tensor  # (1347,) int64
    x_test: torch.Tensor  # (450, 1, 8, 8)
    y_test: torch.Tensor  # (450,)


def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """sklearn's bundled digits (1797 × 64 pixels 0..16, labels), read straight from the CSV
    sklearn ships: importing sklearn.datasets costs more CPU than a whole grade's training."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    csv = (Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
           if spec and spec.submodule_search_locations else None)
    if csv is not None and csv.is_file():
        table = np.loadtxt(csv, delimiter=",")
        return table[:, :-1], table[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data, digits.target


@lru_cache(maxsize=1)
def _split() -> DigitsSplit:
    pixels, labels = _digits_arrays()
    x = torch.tensor(pixels, dtype=torch.float32).reshape(-1, 1, 8, 8) / 16.0
    y = torch.tensor(labels, dtype=torch.int64)
    order = torch.from_numpy(np.random.default_rng(SPLIT_SEED).permutation(len(x)))
    train, test = order[:TRAIN_SIZE], order[TRAIN_SIZE:]
    return DigitsSplit(x[train], y[train], x[test], y[test])


def load_digits_images() -> DigitsSplit:
    """The fixed train/test split every grader of days 51–59 uses (copies: safe to modify)."""
    s = _split()
    return DigitsSplit(s.x_train.clone(), s.y_train.clone(), s.x_test.clone(), s.y_test.clone())


class DigitsCNN(nn.Module):
    """conv(3×3, pad 1) → ReLU → conv(3×3, pad 1) → ReLU → max-pool 2 → flatten → fc → ReLU → fc.

    Every layer is a named attribute (conv1, relu1, conv2, relu2, pool, fc1, relu3, fc2), so
    eager-mode fusion (`fuse_modules(m, [["conv1", "relu1"], ...])`) and channel pruning can
    name them. Widths: c1 and c2 channels, `hidden` units; fc1 takes c2·4·4 inputs.
    """

    def __init__(self, c1: int = 32, c2: int = 64, hidden: int = 256):
        super().__init__()
        self.c1, self.c2, self.hidden = c1, c2, hidden
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(c2 * 16, hidden)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.relu2(self.conv2(self.relu1(self.conv1(x)))))
        return self.fc2(self.relu3(self.fc1(torch.flatten(x, 1))))


class DigitsMLP(nn.Module):
    """flatten → fc1 (64→hidden) → ReLU → fc2 (hidden→hidden) → ReLU → fc3 (hidden→10)."""

    def __init__(self, hidden: int = 512):
        super().__init__()
        self.hidden = hidden
        self.fc1 = nn.Linear(64, hidden)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(hidden, hidden)
        self.relu2 = nn.ReLU()
        self.fc3 = nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu1(self.fc1(torch.flatten(x, 1)))
        return self.fc3(self.relu2(self.fc2(x)))


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int = 5,
          lr: float = 5e-3, batch_size: int = 64, seed: int = 0, loss_fn=None) -> nn.Module:
    """Adam on shuffled mini-batches (the shuffling seeded by `seed`), the learning rate
    decaying linearly from `lr` to 0 so the model ends converged; returns it in eval mode.
    `loss_fn(logits, y_batch, x_batch)` replaces cross-entropy when given (e.g. a
    distillation loss that needs the inputs for the teacher).

    Adam is written out here rather than taken from torch.optim, whose first use imports
    torch._dynamo (seconds of CPU per grade); the update is the same (β 0.9/0.999, ε 1e-8).
    """
    gen = torch.Generator().manual_seed(seed)
    adam = _Adam([p for p in model.parameters() if p.requires_grad], lr,
                 steps=epochs * -(-len(x) // batch_size))
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            logits = model(x[idx])
            if loss_fn is None:
                loss = nn.functional.cross_entropy(logits, y[idx])
            else:
                loss = loss_fn(logits, y[idx], x[idx])
            loss.backward()
            adam.step()
    return model.eval()


class _Adam:
    def __init__(self, params: list[torch.Tensor], lr: float, steps: int,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.params, self.lr, self.steps, self.betas, self.eps = params, lr, steps, betas, eps
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0

    @torch.no_grad()
    def step(self) -> None:
        b1, b2 = self.betas
        lr = self.lr * (1 - self.t / self.steps)  # linear decay to 0
        self.t += 1
        for p, m, v in zip(self.params, self.m, self.v, strict=True):
            if p.grad is None:
                continue
            m.mul_(b1).add_(p.grad, alpha=1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            denom = (v / (1 - b2 ** self.t)).sqrt_().add_(self.eps)
            p.addcdiv_(m, denom, value=-lr / (1 - b1 ** self.t))
            p.grad = None


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Class predictions (N,) int64, in batches."""
    return torch.cat([model(x[i:i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of correct predictions (0..1)."""
    return (predict(model, x) == y).double().mean().item()


def size_bytes(model: nn.Module) -> int:
    """Bytes of `torch.save(model.state_dict())`: what the model costs on disk. For int8
    modules this includes their packed weights, scales and zero points."""
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.getbuffer().nbytes


def trained_cnn(c1: int = 32, c2: int = 64, hidden: int = 256, *, epochs: int = 5,
                seed: int = 0) -> DigitsCNN:
    """A DigitsCNN initialised with torch.manual_seed(seed) and trained by `train` on the
    training split: the fp32 model the graders of days 53–58 start from."""
    data = _split()
    torch.manual_seed(seed)
    return train(DigitsCNN(c1, c2, hidden), data.x_train, data.y_train, epochs=epochs, seed=seed)


def trained_mlp(hidden: int = 512, *, epochs: int = 5, seed: int = 0) -> DigitsMLP:
    """A DigitsMLP trained the same way (days 51, 54 and 57)."""
    data = _split()
    torch.manual_seed(seed)
    return train(DigitsMLP(hidden), data.x_train, data.y_train, epochs=epochs, seed=seed)


def check_cpu_latency(bench, model: nn.Module, x: torch.Tensor, metric: str, name: str) -> None:
    """One-thread forward time of `model` on `x` against the target `metric` of the day:
    thread CPU time (time other processes take is not counted) and a loose stability bound,
    since the bounds are generous and catch grossly slow models, not slow machines."""
    torch.set_num_threads(1)
    with torch.inference_mode():
        m = bench.measure(model, x, name=name, timer=time.thread_time, max_time_s=1.0,
                          memory=False, rel_iqr_max=0.5)
    assert torch.get_num_threads() == 1, "the model changed torch's thread count"
    bench.check(m, metric)


__all__ = ["DigitsCNN", "DigitsMLP", "DigitsSplit", "accuracy", "check_cpu_latency",
           "load_digits_images", "predict", "size_bytes", "train", "trained_cnn", "trained_mlp"]

"""A tiny tabular NAS benchmark on the digits (in the spirit of NAS-Bench-101/201): every
architecture of a small MLP search space was trained once and its accuracy stored, so a
search can "evaluate" an architecture by looking it up — the same numbers real training
gave, without the minutes of training.

    from graders.data.nas_digits import SPACE, load_benchmark
    bench = load_benchmark()
    bench.evaluate({"layers": 2, "width": 64, "activation": "relu", "lr": 0.003})  # 0.97...
    bench.best()        # (architecture, accuracy) of the exhaustive best
    len(bench)          # 144 architectures

SPACE maps each choice to its options; an architecture is a dict with one value per key.
`evaluate` returns the validation accuracy (the last 347 images of the training split,
trained on the first 1000); `test_accuracy` gives the test-split figure, for reporting only.
`train_and_score(arch)` really trains one (seeded; ~0.1–1 s), and running this module
(`python -m graders.data.nas_digits`) rebuilds the table nas_digits.csv next to it.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SPACE: dict[str, list] = {
    "layers": [1, 2, 3],
    "width": [16, 32, 64, 128],
    "activation": ["relu", "tanh", "sigmoid"],
    "lr": [0.001, 0.003, 0.01, 0.03],
}
TABLE = Path(__file__).with_name("nas_digits.csv")
FIT_SIZE, EPOCHS, SEED = 1000, 5, 0


def arch_key(arch: dict) -> tuple:
    """The architecture as a tuple in SPACE order (hashable); KeyError if a choice is missing."""
    return tuple(arch[k] for k in SPACE)


def all_architectures() -> list[dict]:
    return [dict(zip(SPACE, values, strict=True)) for values in itertools.product(*SPACE.values())]


def build_mlp(arch: dict):
    from torch import nn

    act = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[arch["activation"]]
    layers: list = [nn.Flatten()]
    width_in = 64
    for _ in range(arch["layers"]):
        layers += [nn.Linear(width_in, arch["width"]), act()]
        width_in = arch["width"]
    layers.append(nn.Linear(width_in, 10))
    return nn.Sequential(*layers)


def train_and_score(arch: dict, seed: int = SEED, *, build=None,
                    epochs: int = EPOCHS) -> tuple[float, float]:
    """Train `build(arch)` (default: the MLP) for real: (validation accuracy, test
    accuracy), on the first FIT_SIZE training images, the rest of them for validation."""
    import torch

    from graders.data.digits_cnn import accuracy, load_digits_images, train

    d = load_digits_images()
    torch.manual_seed(seed)
    model = (build or build_mlp)(arch)
    train(model, d.x_train[:FIT_SIZE], d.y_train[:FIT_SIZE], epochs=epochs, lr=arch["lr"],
          seed=seed)
    return (accuracy(model, d.x_train[FIT_SIZE:], d.y_train[FIT_SIZE:]),
            accuracy(model, d.x_test, d.y_test))


@dataclass(frozen=True)
class Benchmark:
    space: dict[str, list]
    val: dict[tuple, float]
    test: dict[tuple, float]

    def __len__(self) -> int:
        return len(self.val)

    def evaluate(self, arch: dict) -> float:
        """Validation accuracy of `arch` (ValueError for an architecture outside the space)."""
        try:
            return self.val[arch_key(arch)]
        except (KeyError, TypeError):
            raise ValueError(f"not an architecture of the search space: {arch!r}") from None

    def test_accuracy(self, arch: dict) -> float:
        return self.test[arch_key(arch)]

    def best(self) -> tuple[dict, float]:
        key = max(self.val, key=lambda k: self.val[k])
        return dict(zip(self.space, key, strict=True)), self.val[key]


def _parse(name: str, text: str):
    kind = type(SPACE[name][0])
    return kind(text)


@lru_cache(maxsize=1)
def load_benchmark() -> Benchmark:
    val, test = {}, {}
    with TABLE.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            key = tuple(_parse(k, row[k]) for k in SPACE)
            val[key], test[key] = float(row["val_accuracy"]), float(row["test_accuracy"])
    return Benchmark({k: list(v) for k, v in SPACE.items()}, val, test)


def _rebuild() -> None:
    import torch

    torch.set_num_threads(1)
    rows = []
    for arch in all_architectures():
        v, t = train_and_score(arch)
        rows.append({**arch, "val_accuracy": f"{v:.6f}", "test_accuracy": f"{t:.6f}"})
        print(arch, f"{v:.4f}", flush=True)
    with TABLE.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[*SPACE, "val_accuracy", "test_accuracy"])
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    _rebuild()

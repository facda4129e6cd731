"""A multi-fidelity NAS benchmark of small CNNs on the 8×8 digits (in the spirit of
NAS-Bench-201's learning curves): every architecture of a 72-point CNN space was really
trained for 1, 3 and 9 epochs and its validation accuracy stored, so a search can
"evaluate" an architecture at a fidelity by looking it up — the numbers real training gave.

    from graders.data.nas_cnn import SPACE, FIDELITIES, build_cnn, load_table
    table = load_table()
    table.accuracy({"depth": 2, "width": 16, "kernel": 3, "lr": 0.01}, epochs=9)
    table.best()         # (architecture, accuracy) of the exhaustive best at 9 epochs
    measure_latencies(shapes())  # this machine's latency (ms) of the 24 distinct CNNs

The CNN of an architecture (`build_cnn`): `depth` blocks Conv2d(k×k, `width` channels,
padding k//2) → ReLU at 8×8, then MaxPool2d(2), Flatten, Linear(width·16 → 10). It is
trained by `graders.data.digits_cnn.train` (seeded Adam, learning rate `lr` decaying
linearly to 0 over the run, batch 64) on the first 1000 training images, initialised with
torch.manual_seed(SEED); the validation accuracy is on the last 347 training images.
`python -m graders.data.nas_cnn` rebuilds nas_cnn.csv next to this file (about a minute of CPU).
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SPACE: dict[str, list] = {
    "depth": [1, 2, 3],
    "width": [4, 8, 16, 32],
    "kernel": [3, 5],
    "lr": [0.003, 0.01, 0.03],
}
FIDELITIES = (1, 3, 9)  # epochs
TABLE = Path(__file__).with_name("nas_cnn.csv")
SEED = 0  # the split (first 1000 training images) is nas_digits's


def arch_key(arch: dict) -> tuple:
    """The architecture as a tuple in SPACE order (hashable); KeyError if a choice is missing."""
    return tuple(arch[k] for k in SPACE)


def all_architectures() -> list[dict]:
    return [dict(zip(SPACE, values, strict=True)) for values in itertools.product(*SPACE.values())]


def build_cnn(arch: dict):
    from torch import nn

    layers: list = []
    c_in, k = 1, arch["kernel"]
    for _ in range(arch["depth"]):
        layers += [nn.Conv2d(c_in, arch["width"], k, padding=k // 2), nn.ReLU()]
        c_in = arch["width"]
    layers += [nn.MaxPool2d(2), nn.Flatten(), nn.Linear(arch["width"] * 16, 10)]
    return nn.Sequential(*layers)


def train_and_score(arch: dict, epochs: int, build=build_cnn, seed: int = SEED):
    """Train `build(arch)` for real on day 59's split: (validation accuracy, test accuracy)."""
    from graders.data import nas_digits

    return nas_digits.train_and_score(arch, seed, build=build, epochs=epochs)


@dataclass(frozen=True)
class Table:
    space: dict[str, list]
    val: dict[tuple, float]  # (arch key..., epochs) -> validation accuracy
    test: dict[tuple, float]

    def accuracy(self, arch: dict, epochs: int) -> float:
        """Validation accuracy of `arch` after `epochs` (ValueError outside the space or
        for an epoch count not in FIDELITIES)."""
        try:
            return self.val[(*arch_key(arch), epochs)]
        except (KeyError, TypeError):
            raise ValueError(f"not an architecture of the search space at a fidelity of "
                             f"{FIDELITIES} epochs: {arch!r}, epochs={epochs!r}") from None

    def test_accuracy(self, arch: dict, epochs: int = FIDELITIES[-1]) -> float:
        return self.test[(*arch_key(arch), epochs)]

    def best(self, epochs: int = FIDELITIES[-1]) -> tuple[dict, float]:
        keys = [k for k in self.val if k[-1] == epochs]
        key = max(keys, key=lambda k: self.val[k])
        return dict(zip(self.space, key[:-1], strict=True)), self.val[key]


def shapes() -> list[dict]:
    """The 24 distinct CNNs of the space (lr is training, not model): depth, width, kernel."""
    keys = ("depth", "width", "kernel")
    return [dict(zip(keys, v, strict=True)) for v in itertools.product(*(SPACE[k] for k in keys))]


def measure_latencies(archs: list[dict], batch: int = 1, rounds: int = 31) -> list[float]:
    """Median latency (ms of this thread's CPU time, one torch thread) of one inference-mode
    forward pass of `build_cnn(arch)` on a seeded (batch, 1, 8, 8) batch, for each arch.

    The models are timed round-robin — one call of each per round, after two untimed calls
    each — so drift and load on a shared machine fall on all of them alike; the median over
    the rounds sees through interrupted calls. (graders.bench times one function at a time,
    with a calibration and warm-up per function: too slow for a whole search space.)"""
    import time

    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        x = torch.rand(batch, 1, 8, 8, generator=torch.Generator().manual_seed(SEED))
        models = []
        for arch in archs:
            torch.manual_seed(SEED)
            models.append(build_cnn(arch).eval())
        times: list[list[float]] = [[] for _ in models]
        with torch.inference_mode():
            for m in models * 2:
                m(x)
            for _ in range(rounds):
                for i, m in enumerate(models):
                    t0 = time.thread_time()
                    m(x)
                    times[i].append(time.thread_time() - t0)
    finally:
        torch.set_num_threads(threads)
    return [sorted(t)[len(t) // 2] * 1e3 for t in times]


def _parse(name: str, text: str):
    return type(SPACE[name][0])(text)


@lru_cache(maxsize=1)
def load_table() -> Table:
    val, test = {}, {}
    with TABLE.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            key = (*(_parse(k, row[k]) for k in SPACE), int(row["epochs"]))
            val[key], test[key] = float(row["val_accuracy"]), float(row["test_accuracy"])
    return Table({k: list(v) for k, v in SPACE.items()}, val, test)


def _rebuild() -> None:
    import torch

    torch.set_num_threads(1)
    rows = []
    for arch in all_architectures():
        for epochs in FIDELITIES:
            v, t = train_and_score(arch, epochs)
            rows.append({**arch, "epochs": epochs, "val_accuracy": f"{v:.6f}",
                         "test_accuracy": f"{t:.6f}"})
            print(arch, epochs, f"{v:.4f}", flush=True)
    with TABLE.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[*SPACE, "epochs", "val_accuracy",
                                               "test_accuracy"])
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    _rebuild()

"""Day 132 reference: a reproducible experiment — seeded training with DataLoader workers, an
environment record and a lock file, run as one command:

    python solution.py --seed 3 --out DIR
"""

import argparse
import hashlib
import importlib.metadata as metadata
import json
import platform
import random
import re
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from graders.data.digits_cnn import DigitsMLP, load_digits_images

HIDDEN, EPOCHS, BATCH, LR, MOMENTUM, NOISE, WORKERS = 64, 5, 64, 0.1, 0.9, 0.05, 2


class NoisyDigits(Dataset):
    """The training digits, each with fresh Gaussian pixel noise (std 0.05) per access."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor):
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int):
        # torch's global generator: DataLoader seeds it in each worker from its base seed
        return self.x[i] + NOISE * torch.randn(self.x[i].shape), self.y[i]


def seed_worker(worker_id: int) -> None:
    """Seed numpy and random in a worker from the seed DataLoader gave it (the torch docs)."""
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


def make_loader(dataset, seed: int, batch_size: int = BATCH,
                num_workers: int = WORKERS) -> DataLoader:
    """Shuffled batches whose order and worker seeds come from `seed` alone."""
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=num_workers,
                      generator=torch.Generator().manual_seed(seed),
                      worker_init_fn=seed_worker, persistent_workers=num_workers > 0)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def weights_sha256(model: nn.Module) -> str:
    return hashlib.sha256(b"".join(t.detach().contiguous().numpy().tobytes()
                                   for t in model.state_dict().values())).hexdigest()


def environment(seed: int) -> dict:
    return {"python": platform.python_version(), "torch": torch.__version__,
            "numpy": np.__version__, "seed": seed, "threads": torch.get_num_threads(),
            "deterministic": torch.are_deterministic_algorithms_enabled(),
            "cudnn_deterministic": torch.backends.cudnn.deterministic,
            "cudnn_benchmark": torch.backends.cudnn.benchmark, "num_workers": WORKERS}


def lock_lines() -> list[str]:
    """`Name==version` of every installed distribution a loaded module belongs to."""
    owners = metadata.packages_distributions()
    names = {dist for module in list(sys.modules) for dist in owners.get(module.split(".")[0], [])}
    pins = {}
    for name in names:
        dist = metadata.distribution(name)
        pins[re.sub(r"[-_.]+", "-", name).lower()] = f"{dist.metadata['Name']}=={dist.version}"
    return [pins[k] for k in sorted(pins)]  # by PEP 503 name


def run_experiment(seed: int, out: str) -> dict:
    """Train the MLP from `seed`; write results.json, model.pt and requirements.lock to `out`."""
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    seed_everything(seed)
    data = load_digits_images()
    model = DigitsMLP(HIDDEN)
    loader = make_loader(NoisyDigits(data.x_train, data.y_train), seed)
    velocity = [torch.zeros_like(p) for p in model.parameters()]
    losses = []
    model.train()
    for _ in range(EPOCHS):
        for x, y in loader:
            loss = nn.functional.cross_entropy(model(x), y)
            model.zero_grad()
            loss.backward()
            with torch.no_grad():  # SGD with momentum, by hand (torch.optim imports dynamo)
                for p, v in zip(model.parameters(), velocity, strict=True):
                    v.mul_(MOMENTUM).add_(p.grad)
                    p -= LR * v
            losses.append(loss.item())
    model.eval()
    with torch.inference_mode():
        accuracy = (model(data.x_test).argmax(1) == data.y_test).double().mean().item()
    results = {"seed": seed, "losses": losses, "accuracy": accuracy,
               "weights_sha256": weights_sha256(model), "env": environment(seed)}
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), folder / "model.pt")
    (folder / "results.json").write_text(json.dumps(results))
    (folder / "requirements.lock").write_text("\n".join(lock_lines()) + "\n")  # last
    return results


def main(argv=None) -> None:
    """The command: --seed (int, default 0) and --out (a folder, default run)."""
    parser = argparse.ArgumentParser(description="Run the seeded experiment reproducibly.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="run")
    args = parser.parse_args(argv)
    run_experiment(args.seed, args.out)


if __name__ == "__main__":
    main()

"""Day 132: a reproducible experiment — a seeded training run with DataLoader workers, an
environment record and a lock file, run as one command:

    python solution.py --seed 3 --out DIR
"""

import argparse

import torch  # noqa: F401  (the recipe)
from torch.utils.data import DataLoader, Dataset

from graders.data.digits_cnn import DigitsMLP, load_digits_images  # noqa: F401  (the recipe)


def make_loader(dataset: Dataset, seed: int, batch_size: int = 64,
                num_workers: int = 2) -> DataLoader:
    """Shuffled batches of `dataset` loaded by `num_workers` worker processes, whose order and
    worker seeds come from `seed` alone (whatever the global generators hold)."""
    # TODO: a DataLoader with its own seeded torch.Generator
    raise NotImplementedError("make_loader")


def run_experiment(seed: int, out: str) -> dict:
    """Train the spec's recipe from `seed`; write results.json, model.pt and requirements.lock
    into the folder `out` (create it) and return the results dict."""
    # TODO: threads and deterministic flags, seeds, the recipe with make_loader
    # TODO: the results (seed, losses, accuracy, weights_sha256, env) and the three files
    raise NotImplementedError("run_experiment")


def main(argv=None) -> None:
    """The command: --seed (int, default 0) and --out (a folder, default run)."""
    parser = argparse.ArgumentParser(description="Run the seeded experiment reproducibly.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="run")
    args = parser.parse_args(argv)
    run_experiment(args.seed, args.out)


if __name__ == "__main__":
    main()

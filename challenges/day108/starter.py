"""Day 108: capstone 2 as a reproducible package — your prototype, and one command that
re-runs its benchmarks and writes them down:

    python solution.py --seed 7 --out results.json
"""

import argparse

import torch
from torch import nn


def prepare(model: nn.Module, calib: torch.Tensor):
    """Your capstone prototype (day 87): fn(x) -> float32 logits (N, 10), without autograd,
    >= 1.2x faster than the baseline at <= 1 point of accuracy. Do not modify `model`."""
    # TODO: e.g. dynamic int8 quantisation of a copy.deepcopy(model)
    raise NotImplementedError("prepare")


def reproduce(out: str, seed: int) -> dict:
    """Re-run every figure on one torch thread, write them to `out` as JSON (the keys of the
    spec) and return the same dict."""
    # TODO: torch.set_num_threads(1); load_task(); baseline and prototype
    # TODO: accuracies, the seeded bootstrap interval, the two timing records, the speed-up
    # TODO: seed, method, python and torch versions, threads
    raise NotImplementedError("reproduce")


def main(argv=None) -> None:
    """The command: --seed (int, default 0) and --out (default results.json)."""
    parser = argparse.ArgumentParser(description="Re-run capstone 2's benchmarks.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results.json")
    args = parser.parse_args(argv)
    reproduce(args.out, args.seed)


if __name__ == "__main__":
    main()

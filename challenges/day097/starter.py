"""Day 97: hardware-aware NAS — count a CNN's multiply-accumulates, fit a latency model on
architectures measured on this machine, and search for the most accurate architecture
predicted to run within a latency budget."""

import itertools  # noqa: F401

import numpy as np  # noqa: F401


def conv_macs(arch: dict) -> int:
    """Multiply-accumulates of ONE 8×8 image through graders.data.nas_cnn.build_cnn(arch):
    every Conv2d and the final Linear (biases, ReLU and pooling not counted)."""
    # TODO: depth convs of k×k kernels at 8×8 (padding keeps the size), then Linear(w·16 → 10)
    raise NotImplementedError("conv_macs")


def fit_latency_model(archs: list[dict], latencies_ms: list[float]):
    """Least squares of latency on the features (1, depth, depth·[k = 5], depth·width,
    MACs / 1e6); returns predict(arch) -> float (ms)."""
    # TODO: build the feature rows, solve with np.linalg.lstsq, return a closure
    raise NotImplementedError("fit_latency_model")


def search(space: dict, accuracy, predict_ms, budget_ms: float) -> tuple[dict, float, float]:
    """The most accurate architecture of `space` with predict_ms(arch) <= budget_ms:
    (arch, accuracy(arch), predict_ms(arch))."""
    # TODO: every combination of space (itertools.product); skip those over the budget;
    #       highest accuracy, then lowest predicted latency, then the first; ValueError if none
    raise NotImplementedError("search")

"""Day 36 grader: a small CNN on the synthetic CIFAR-like set — shapes, parameter budget,
test accuracy after training."""

import random
import time

import numpy as np
import pytest
import torch
import torch._dynamo  # noqa: F401  (see below)
from torch import nn

from graders.data.images import load_images

torch.set_num_threads(1)  # one thread: fastest per core, and immune to a busy machine
# The first torch optimiser imports torch._dynamo, which wraps torch.manual_seed; importing it
# here, before the solution runs, keeps the grading run's module guard from calling that tampering.
BUDGET = 50_000  # parameters
THRESHOLD = 0.60  # test accuracy (the reference reaches about 0.9; a linear model about 0.25)


@pytest.fixture(scope="module")
def images():
    return load_images()


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def check_is_a_small_cnn(model, what):
    assert isinstance(model, nn.Module), f"{what} must be a torch.nn.Module"
    assert any(isinstance(m, nn.Conv2d) for m in model.modules()), (
        f"{what} has no nn.Conv2d layer: today's model is a convolutional network"
    )
    count = n_params(model)
    assert count <= BUDGET, (
        f"{what} has {count:,} parameters, over the budget of {BUDGET:,} (a large Linear "
        "layer on flattened feature maps is the usual culprit: pool them first)"
    )
    return count


def test_cnn_shapes_and_budget(solution, images, record_metric):
    torch.manual_seed(0)
    model = solution.build_cnn()
    count = check_is_a_small_cnn(model, "build_cnn()")
    record_metric("parameters", count, target=f"<= {BUDGET}", verdict="PASS")
    x = torch.from_numpy(images[0][:5])
    model.train()
    out = model(x)
    assert tuple(out.shape) == (5, 10), (
        f"build_cnn() maps a batch of 5 images (5, 3, 32, 32) to {tuple(out.shape)}, "
        "expected (5, 10): one logit per class"
    )
    assert torch.isfinite(out).all(), "build_cnn()'s outputs contain NaN or inf"
    model.eval()
    with torch.no_grad():
        one = model(x[:1])
    assert tuple(one.shape) == (1, 10), (
        f"in eval mode a single image gives an output of shape {tuple(one.shape)}, "
        "expected (1, 10)"
    )


def _weights_after_training(solution, X, y, seed, scramble):
    """train_cnn's weights, with the global generators first set to `scramble`."""
    random.seed(scramble)
    np.random.seed(scramble)
    torch.manual_seed(scramble)
    model = solution.train_cnn(X.copy(), y.copy(), seed=seed)
    return [t.detach().clone() for t in model.state_dict().values()]


def test_train_cnn_is_seeded(solution, images):
    X, y = images[0][:64], images[1][:64]  # a small run: the point is reproducibility
    first = _weights_after_training(solution, X, y, seed=0, scramble=11)
    again = _weights_after_training(solution, X, y, seed=0, scramble=22)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True)), (
        "train_cnn(X, y, seed=0) gave different weights in two runs (the global random state "
        "differed between them): call torch.manual_seed(seed) first, and draw everything "
        "else from seeded generators")
    other = _weights_after_training(solution, X, y, seed=1, scramble=11)
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True)), (
        "train_cnn gave the same weights for seeds 0 and 1: use the seed argument")


def test_cnn_trains_to_threshold(solution, images, record_metric):
    X_train, y_train, X_test, y_test = images
    torch.manual_seed(0)
    check_is_a_small_cnn(solution.build_cnn(), "build_cnn()")  # fail fast, before training
    start = time.perf_counter()
    model = solution.train_cnn(X_train.copy(), y_train.copy(), seed=0)
    seconds = time.perf_counter() - start
    check_is_a_small_cnn(model, "the model train_cnn returned")
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(xb) for xb in torch.from_numpy(X_test).split(250)])
    assert tuple(logits.shape) == (len(X_test), 10), (
        f"the trained model gives logits of shape {tuple(logits.shape)} for "
        f"{len(X_test)} test images, expected ({len(X_test)}, 10)"
    )
    acc = float(np.mean(logits.argmax(dim=1).numpy() == y_test))
    record_metric("test_accuracy", acc, target=f">= {THRESHOLD}",
                  verdict="PASS" if acc >= THRESHOLD else "FAIL")
    record_metric("train_seconds", seconds, unit="s")
    assert acc >= THRESHOLD, (
        f"the trained CNN's test accuracy is {acc:.3f}, below the threshold {THRESHOLD}"
    )

"""Day 32 grader: one MLP in numpy and in PyTorch — same weights, same outputs, same
gradients; both trained on digits to the accuracy threshold."""

import random
import time

import numpy as np
import pytest
import torch
import torch._dynamo  # noqa: F401  (see below)
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from graders import expect, forbid
from graders.gradcheck import assert_grad

torch.set_num_threads(1)  # small matrices: one thread is fastest and immune to a busy machine
# The first torch optimiser imports torch._dynamo, which wraps torch.manual_seed; importing it
# here, before the solution runs, keeps the grading run's module guard from calling that tampering.
THRESHOLD = 0.93  # test accuracy, both models (well-trained MLPs reach 0.96-0.98)
LIMIT = 1e-6  # relative error of a gradient
SIZES = [64, 32, 16, 10]
NO_TORCH = ("torch.tensor", "torch.as_tensor", "torch.from_numpy")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, random_state=0, stratify=y)


def oracle_mlp(sizes, seed):
    """The grader's own torch MLP in float64: Linear, ReLU, ..., Linear."""
    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers += [nn.Linear(a, b)] + ([nn.ReLU()] if i < len(sizes) - 2 else [])
    return nn.Sequential(*layers).double()


def linears(model):
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def load_into(mlp, torch_model):
    """Give the learner's NumpyMLP the torch model's weights (torch layout, float64 copies)."""
    lin = linears(torch_model)
    mlp.weights = [m.weight.detach().double().numpy().copy() for m in lin]
    mlp.biases = [m.bias.detach().double().numpy().copy() for m in lin]


def numpy_forward(mlp, X, what):
    with forbid.calls(*NO_TORCH):
        out = mlp.forward(X)
    assert isinstance(out, np.ndarray), (
        f"{what} returned {type(out).__name__}; the numpy MLP must return a numpy array"
    )
    return out


def test_numpy_mlp_layout(solution):
    mlp = solution.NumpyMLP(SIZES, seed=0)
    assert len(mlp.weights) == 3 and len(mlp.biases) == 3, (
        f"NumpyMLP({SIZES}) has {len(mlp.weights)} weight matrices, expected 3 (one per Linear)"
    )
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:], strict=True)):
        W = expect.array(mlp.weights[i], f"NumpyMLP.weights[{i}]")
        assert W.shape == (b, a), (
            f"NumpyMLP({SIZES}).weights[{i}] has shape {W.shape}, expected {(b, a)} "
            "(torch layout: (out_features, in_features))"
        )
        assert expect.array(mlp.biases[i], "bias").shape == (b,), (
            f"NumpyMLP({SIZES}).biases[{i}] has shape {np.shape(mlp.biases[i])}, expected {(b,)}"
        )
        assert np.ptp(W) > 0, (
            f"NumpyMLP.weights[{i}] are all equal: with a constant initialisation every hidden "
            "unit gets the same gradient and they never become different"
        )
    again = solution.NumpyMLP(SIZES, seed=0)
    expect.close(again.weights[0], mlp.weights[0], what="NumpyMLP(sizes, seed=0) made twice",
                 rtol=0, atol=0)


def test_numpy_mlp_matches_torch_with_the_same_weights(solution, digits):
    X = digits[1][:50]
    ref = oracle_mlp(SIZES, seed=1)
    mlp = solution.NumpyMLP(SIZES, seed=0)
    load_into(mlp, ref)
    want = ref(torch.tensor(X)).detach().numpy()
    expect.close(numpy_forward(mlp, X, "NumpyMLP.forward"), want,
                 what="NumpyMLP.forward (logits, no activation after the last layer)",
                 rtol=1e-9, atol=1e-10, oracle="a torch MLP with the same weights")


def test_numpy_gradients_match_torch_autograd(solution, digits):
    X, y = digits[0][:40], digits[2][:40]
    ref = oracle_mlp(SIZES, seed=2)
    mlp = solution.NumpyMLP(SIZES, seed=0)
    load_into(mlp, ref)
    loss = F.cross_entropy(ref(torch.tensor(X)), torch.tensor(y))
    loss.backward()
    with forbid.calls(*NO_TORCH):
        got_loss, grad_w, grad_b = mlp.loss_and_grads(X, y)
    expect.close(got_loss, loss.item(), what="the loss from loss_and_grads (mean cross-entropy)",
                 rtol=1e-9, atol=1e-12, oracle="torch F.cross_entropy")
    assert len(grad_w) == 3 and len(grad_b) == 3, (
        "loss_and_grads must return one gradient per layer"
    )
    for i, m in enumerate(linears(ref)):
        assert_grad(grad_w[i], m.weight.grad.numpy(), what=f"gradient of weights[{i}]",
                    against="torch autograd", limit=LIMIT)
        assert_grad(grad_b[i], m.bias.grad.numpy(), what=f"gradient of biases[{i}]",
                    against="torch autograd", limit=LIMIT)


def test_torch_mlp_has_the_same_architecture(solution, digits):
    model = solution.make_torch_mlp(SIZES)
    assert isinstance(model, nn.Module), "make_torch_mlp must return a torch.nn.Module"
    shapes = [tuple(m.weight.shape) for m in linears(model)]
    want = [(b, a) for a, b in zip(SIZES[:-1], SIZES[1:], strict=True)]
    assert shapes == want, f"make_torch_mlp({SIZES}) has Linear weights {shapes}, expected {want}"
    n_params = sum(p.numel() for p in model.parameters())
    want_params = sum(a * b + b for a, b in zip(SIZES[:-1], SIZES[1:], strict=True))
    assert n_params == want_params, (
        f"make_torch_mlp({SIZES}) has {n_params} parameters, expected {want_params}"
    )
    for m in linears(model):  # nn.Linear's default: U(-1/√in, 1/√in) for weight and bias
        bound = 1 / np.sqrt(m.in_features)
        w, b = m.weight.detach().double(), m.bias.detach().double()
        assert w.abs().max() <= bound and b.abs().max() <= bound and b.abs().max() > 0 and (
            0.5 < float(w.std()) / (bound / np.sqrt(3)) < 1.5), (
            f"make_torch_mlp's Linear({m.in_features}, {m.out_features}) is not initialised "
            "as nn.Linear does by default (weight and bias uniform in ±1/√in_features, "
            "the bias not zero): keep the default initialisation")
    X = digits[1][:50]
    mlp = solution.NumpyMLP(SIZES, seed=0)
    load_into(mlp, model)
    with torch.no_grad():
        out = model.double()(torch.tensor(X)).numpy()
    expect.close(numpy_forward(mlp, X, "NumpyMLP.forward"), out,
                 what="your torch MLP and your numpy MLP with the same weights",
                 rtol=1e-9, atol=1e-10, oracle="each other (same weights must give same outputs)")


def test_numpy_mlp_trains_to_threshold(solution, digits, record_metric):
    Xtr, Xte, ytr, yte = digits
    start = time.perf_counter()
    with forbid.calls(*NO_TORCH):
        model = solution.train_numpy(Xtr.copy(), ytr.copy(), seed=0)
        acc = float(np.mean(np.argmax(model.forward(Xte), axis=1) == yte))
    seconds = time.perf_counter() - start
    record_metric("numpy_test_accuracy", acc, target=f">= {THRESHOLD}",
                  verdict="PASS" if acc >= THRESHOLD else "FAIL")
    record_metric("numpy_train_seconds", seconds, unit="s")
    assert len(model.weights) >= 2, "train_numpy must return a NumpyMLP with a hidden layer"
    assert acc >= THRESHOLD, (
        f"the numpy MLP's test accuracy is {acc:.3f}, below the threshold {THRESHOLD}"
    )


def _torch_weights(solution, X, y, seed, scramble):
    """train_torch's weights, with the global generators first set to `scramble`."""
    random.seed(scramble)
    np.random.seed(scramble)
    torch.manual_seed(scramble)
    model = solution.train_torch(X.copy(), y.copy(), seed=seed)
    return [t.detach().clone() for t in model.state_dict().values()]


def test_train_torch_is_seeded(solution, digits):
    X, y = digits[0][:64], digits[2][:64]  # a small run: the point is reproducibility
    first = _torch_weights(solution, X, y, seed=0, scramble=11)
    again = _torch_weights(solution, X, y, seed=0, scramble=22)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True)), (
        "train_torch(X, y, seed=0) gave different weights in two runs (the global random "
        "state differed between them): call torch.manual_seed(seed) first")
    other = _torch_weights(solution, X, y, seed=1, scramble=11)
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True)), (
        "train_torch gave the same weights for seeds 0 and 1: use the seed argument")


def test_torch_mlp_trains_to_threshold(solution, digits, record_metric):
    Xtr, Xte, ytr, yte = digits
    start = time.perf_counter()
    model = solution.train_torch(Xtr.copy(), ytr.copy(), seed=0)
    seconds = time.perf_counter() - start
    assert isinstance(model, nn.Module), "train_torch must return a torch.nn.Module"
    assert len(linears(model)) >= 2, "train_torch must return an MLP with a hidden layer"
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor(Xte, dtype=torch.float32))
    acc = float((logits.argmax(dim=1).numpy() == yte).mean())
    record_metric("torch_test_accuracy", acc, target=f">= {THRESHOLD}",
                  verdict="PASS" if acc >= THRESHOLD else "FAIL")
    record_metric("torch_train_seconds", seconds, unit="s")
    assert acc >= THRESHOLD, (
        f"the torch MLP's test accuracy is {acc:.3f}, below the threshold {THRESHOLD}"
    )

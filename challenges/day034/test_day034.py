"""Day 34 grader: the digits MLP in Keras 3 on the torch backend — parameter count and
outputs equal to the PyTorch MLP with the same weights; trained to the accuracy threshold."""

import os
import random

os.environ["KERAS_BACKEND"] = "torch"  # before anything imports keras

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from torch import nn  # noqa: E402

from graders import expect, forbid, requires  # noqa: E402

keras = requires.package("keras")
# keras 3.x on numpy 2 warns on every step (its tensors' __array__ lacks `copy`): noise only
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
torch.set_num_threads(1)  # small matrices: one thread is fastest and immune to a busy machine
THRESHOLD = 0.93  # test accuracy (well-trained MLPs reach 0.96-0.98)
SIZES = [64, 32, 16, 10]  # day 32's architecture for the structural checks


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, random_state=0, stratify=y)


def oracle_mlp(sizes, seed):
    """The grader's own PyTorch MLP: Linear, ReLU, ..., Linear."""
    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers += [nn.Linear(a, b)] + ([nn.ReLU()] if i < len(sizes) - 2 else [])
    return nn.Sequential(*layers)


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def keras_params(model, what):
    try:
        return int(model.count_params())
    except ValueError as exc:
        raise AssertionError(
            f"{what} is not built ({exc}); start it with keras.Input(shape=(64,)) so that "
            "its weights exist before training"
        ) from None


def dense_layers(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def copy_torch_into_keras(torch_model, keras_model):
    """Dense kernels are (in, out): the transpose of torch's (out, in) weight."""
    lin = [m for m in torch_model.modules() if isinstance(m, nn.Linear)]
    dense = dense_layers(keras_model)
    assert len(dense) == len(lin), (
        f"the Keras model has {len(dense)} Dense layers, expected {len(lin)}"
    )
    for layer, m in zip(dense, lin, strict=True):
        assert len(layer.get_weights()) == 2, (
            f"Dense layer {layer.name} has no bias: keep use_bias=True, as nn.Linear has one"
        )
        layer.set_weights([m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy()])


def keras_logits(model, X):
    return np.asarray(keras.ops.convert_to_numpy(model(X.astype("float32"), training=False)))


def test_keras_runs_on_the_torch_backend(solution_dir):
    assert keras.backend.backend() == "torch", (
        f"keras runs on the {keras.backend.backend()!r} backend; set KERAS_BACKEND=torch "
        "before importing keras"
    )
    forbid.assert_not_used(solution_dir, ["tensorflow"],
                           why="this day uses Keras 3 on the torch backend, not tf.keras")


def test_parameter_count_equals_the_torch_mlp(solution):
    model = solution.build_keras_mlp(SIZES)
    assert isinstance(model, keras.Model), "build_keras_mlp must return a keras.Model"
    want = n_params(oracle_mlp(SIZES, seed=0))
    got = keras_params(model, f"build_keras_mlp({SIZES})")
    assert got == want, (
        f"build_keras_mlp({SIZES}) has {got} parameters; the PyTorch MLP of the same "
        f"architecture has {want} (Dense layers with biases, sizes {SIZES})"
    )
    theirs = solution.build_torch_mlp(SIZES)
    assert isinstance(theirs, nn.Module), "build_torch_mlp must return a torch.nn.Module"
    assert n_params(theirs) == want, (
        f"build_torch_mlp({SIZES}) has {n_params(theirs)} parameters, expected {want}"
    )
    kernels = [tuple(layer.kernel.shape) for layer in dense_layers(model)]
    assert kernels == [(a, b) for a, b in zip(SIZES[:-1], SIZES[1:], strict=True)], (
        f"the Dense kernels have shapes {kernels}, expected "
        f"{list(zip(SIZES[:-1], SIZES[1:], strict=True))}"
    )


def test_same_weights_give_the_same_outputs_as_torch(solution, digits):
    X = digits[1][:64]
    ref = oracle_mlp(SIZES, seed=1)
    model = solution.build_keras_mlp(SIZES)
    keras_params(model, f"build_keras_mlp({SIZES})")
    copy_torch_into_keras(ref, model)
    with torch.no_grad():
        want = ref(torch.tensor(X, dtype=torch.float32)).numpy()
    expect.close(keras_logits(model, X), want,
                 what="the Keras MLP's logits (ReLU between layers, none after the last)",
                 rtol=1e-4, atol=1e-5, oracle="a torch MLP with the same weights")


def test_your_torch_and_keras_models_agree(solution, digits):
    X = digits[1][:64]
    theirs = solution.build_torch_mlp(SIZES)
    model = solution.build_keras_mlp(SIZES)
    keras_params(model, f"build_keras_mlp({SIZES})")
    copy_torch_into_keras(theirs, model)
    theirs.eval()
    with torch.no_grad():
        want = theirs(torch.tensor(X, dtype=torch.float32)).numpy()
    expect.close(keras_logits(model, X), want,
                 what="your Keras MLP and your torch MLP with the same weights",
                 rtol=1e-4, atol=1e-5, oracle="each other (same weights must give same outputs)")


def _keras_weights(solution, X, y, seed, scramble):
    """train_keras's weights, with the global generators first set to `scramble`."""
    random.seed(scramble)
    np.random.seed(scramble)
    torch.manual_seed(scramble)
    model = solution.train_keras(X.copy(), y.copy(), seed=seed)
    return [np.array(w) for w in model.get_weights()]


def test_train_keras_is_seeded(solution, digits):
    X, y = digits[0][:64], digits[2][:64]  # a small run: the point is reproducibility
    first = _keras_weights(solution, X, y, seed=0, scramble=11)
    again = _keras_weights(solution, X, y, seed=0, scramble=22)
    assert len(first) == len(again) and all(
        np.array_equal(a, b) for a, b in zip(first, again, strict=True)), (
        "train_keras(X, y, seed=0) gave different weights in two runs (the global random "
        "state differed between them): call keras.utils.set_random_seed(seed) first")
    other = _keras_weights(solution, X, y, seed=1, scramble=11)
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True)), (
        "train_keras gave the same weights for seeds 0 and 1: use the seed argument")


def test_keras_mlp_trains_to_threshold(solution, digits, record_metric):
    Xtr, Xte, ytr, yte = digits
    model = solution.train_keras(Xtr.copy(), ytr.copy(), seed=0)
    assert isinstance(model, keras.Model), "train_keras must return the trained keras.Model"
    assert len(dense_layers(model)) >= 2, "train_keras must return an MLP with a hidden layer"
    acc = float(np.mean(np.argmax(keras_logits(model, Xte), axis=1) == yte))
    record_metric("test_accuracy", acc, target=f">= {THRESHOLD}",
                  verdict="PASS" if acc >= THRESHOLD else "FAIL")
    record_metric("parameters", keras_params(model, "train_keras's model"))
    assert acc >= THRESHOLD, f"the Keras MLP's test accuracy is {acc:.3f}, below {THRESHOLD}"

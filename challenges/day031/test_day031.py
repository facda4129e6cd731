"""Day 31 grader: numpy layers, forward vs torch, backward vs central differences and autograd."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from graders import expect, forbid
from graders.gradcheck import assert_grad, numerical_grad

torch.set_num_threads(2)
LIMIT = 1e-6  # relative error of a gradient, as the spec states
FWD = dict(rtol=1e-10, atol=1e-12, oracle="torch")
ACTIVATIONS = {"ReLU": torch.relu, "Sigmoid": torch.sigmoid, "Tanh": torch.tanh}


def rng(seed):
    return np.random.default_rng(seed)


def away_from_zero(shape, seed):
    """Inputs with |x| in [0.1, 2]: no ReLU kink within a finite-difference step."""
    r = rng(seed)
    return r.choice([-1.0, 1.0], size=shape) * r.uniform(0.1, 2.0, size=shape)


def t(a, grad=False):
    return torch.tensor(np.array(a, dtype=np.float64), requires_grad=grad)


def forward(layer, x, what):
    before = x.copy()
    raw = layer.forward(x)
    assert np.array_equal(x, before), (
        f"{what}.forward modified its input in place; return a new array"
    )
    y = expect.array(raw, f"{what}.forward")
    assert np.asarray(raw).dtype == np.float64, (
        f"{what}.forward returned {np.asarray(raw).dtype}; keep float64 (float32 cannot pass a "
        "1e-6 gradient check)"
    )
    return y


def linear(solution, n_in, n_out, seed):
    """The learner's Linear with the grader's weights (torch layout: (out, in))."""
    layer = solution.Linear(n_in, n_out, rng=rng(seed))
    r = rng(seed + 100)
    layer.weight = r.standard_normal((n_out, n_in))
    layer.bias = r.standard_normal(n_out)
    return layer


def test_no_autograd_library(solution_dir):
    forbid.assert_not_used(solution_dir, ["torch", "jax", "autograd", "tensorflow", "keras"],
                           why="write the backward passes yourself, in numpy")


def test_linear_initialisation(solution):
    a = solution.Linear(7, 4, rng=rng(0))
    b = solution.Linear(7, 4, rng=rng(0))
    for name, shape in (("weight", (4, 7)), ("bias", (4,))):
        value = expect.array(getattr(a, name), f"Linear(7, 4).{name}")
        assert value.shape == shape, (
            f"Linear(7, 4).{name} has shape {value.shape}, expected {shape} (torch layout: "
            "weight is (out_features, in_features))"
        )
        assert np.all(np.isfinite(value)), f"Linear(7, 4).{name} is not finite"
        expect.close(getattr(b, name), value, what=f"Linear(7, 4, rng=default_rng(0)).{name} "
                     "made twice (initialise from the rng you are given)", rtol=0, atol=0)
    assert np.ptp(a.weight) > 0, (
        "Linear's weights are all equal: initialise them randomly, or every unit learns the same"
    )


@pytest.mark.parametrize("n_in,n_out", [(5, 3), (4, 4), (1, 6)])
def test_linear_forward_matches_torch(solution, n_in, n_out):
    layer = linear(solution, n_in, n_out, seed=n_in)
    x = rng(1).standard_normal((6, n_in))
    want = F.linear(t(x), t(layer.weight), t(layer.bias)).numpy()
    expect.close(forward(layer, x, "Linear"), want, what=f"Linear({n_in}, {n_out}).forward", **FWD)


@pytest.mark.parametrize("n_in,n_out", [(5, 3), (4, 4), (3, 7)])
def test_linear_backward_matches_finite_differences(solution, n_in, n_out):
    layer = linear(solution, n_in, n_out, seed=10 + n_in)
    x = rng(2).standard_normal((4, n_in))
    g = rng(3).standard_normal((4, n_out))

    def f():
        return float(np.sum(g * layer.forward(x)))

    want = {name: numerical_grad(f, arr) for name, arr in
            (("x", x), ("weight", layer.weight), ("bias", layer.bias))}
    forward(layer, x, "Linear")
    grad_x = layer.backward(g)
    what = f"Linear({n_in}, {n_out})"
    assert_grad(grad_x, want["x"], what=f"{what}.backward (grad of x)",
                against="finite differences", limit=LIMIT)
    assert_grad(layer.grad_weight, want["weight"], what=f"{what}.grad_weight",
                against="finite differences", limit=LIMIT)
    assert_grad(layer.grad_bias, want["bias"], what=f"{what}.grad_bias",
                against="finite differences", limit=LIMIT)


def test_linear_backward_matches_torch_autograd(solution):
    layer = linear(solution, 6, 4, seed=5)
    x = rng(4).standard_normal((8, 6))
    g = rng(5).standard_normal((8, 4))
    tx, tw, tb = t(x, True), t(layer.weight, True), t(layer.bias, True)
    F.linear(tx, tw, tb).backward(t(g))
    forward(layer, x, "Linear")
    assert_grad(layer.backward(g), tx.grad.numpy(), what="Linear(6, 4).backward (grad of x)",
                against="torch autograd", limit=LIMIT)
    assert_grad(layer.grad_weight, tw.grad.numpy(), what="Linear(6, 4).grad_weight",
                against="torch autograd", limit=LIMIT)
    assert_grad(layer.grad_bias, tb.grad.numpy(), what="Linear(6, 4).grad_bias",
                against="torch autograd", limit=LIMIT)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_forward_matches_torch(solution, name):
    x = rng(6).standard_normal((5, 7)) * 3
    x[0, :3] = [0.0, 40.0, -40.0]
    expect.close(forward(getattr(solution, name)(), x, name), ACTIVATIONS[name](t(x)).numpy(),
                 what=f"{name}.forward", **FWD)
    x3 = rng(7).standard_normal((2, 3, 4))
    expect.close(forward(getattr(solution, name)(), x3, name), ACTIVATIONS[name](t(x3)).numpy(),
                 what=f"{name}.forward of a 3-D array (it is elementwise)", **FWD)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_backward_matches_finite_differences(solution, name):
    layer = getattr(solution, name)()
    x = away_from_zero((4, 6), seed=8)
    g = rng(9).standard_normal((4, 6))
    want = numerical_grad(lambda: float(np.sum(g * layer.forward(x))), x)
    forward(layer, x, name)
    assert_grad(layer.backward(g), want, what=f"{name}.backward", against="finite differences",
                limit=LIMIT)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_backward_matches_torch_autograd(solution, name):
    layer = getattr(solution, name)()
    x = rng(10).standard_normal((3, 5)) * 2
    g = rng(11).standard_normal((3, 5))
    tx = t(x, True)
    ACTIVATIONS[name](tx).backward(t(g))
    forward(layer, x, name)
    assert_grad(layer.backward(g), tx.grad.numpy(), what=f"{name}.backward",
                against="torch autograd", limit=LIMIT)


def test_relu_derivative_at_zero_is_zero(solution):
    layer = solution.ReLU()
    x = np.array([[-1.0, 0.0, 2.0], [0.0, 3.0, -0.5]])
    forward(layer, x, "ReLU")
    got = expect.array(layer.backward(np.ones_like(x)), "ReLU.backward")
    want = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    assert got.shape == want.shape and np.array_equal(got, want), (
        f"ReLU.backward of ones at x = {x.tolist()} gave {got.tolist()}, expected {want.tolist()}:"
        " the derivative at exactly 0 is 0 (as in torch)"
    )


def test_backward_uses_the_latest_forward(solution):
    layer = solution.Tanh()
    x1, x2 = rng(12).standard_normal((2, 3)), rng(13).standard_normal((2, 3))
    forward(layer, x1, "Tanh")
    forward(layer, x2, "Tanh")
    expect.close(layer.backward(np.ones((2, 3))), 1 - np.tanh(x2) ** 2,
                 what="Tanh.backward after two forward calls (it must use the latest input)",
                 rtol=1e-10, atol=1e-12, oracle="the closed form 1 - tanh(x)^2")


def test_linear_backward_uses_the_latest_forward(solution):
    layer = linear(solution, 3, 2, seed=15)
    x1, x2 = rng(16).standard_normal((4, 3)), rng(17).standard_normal((4, 3))
    g = rng(18).standard_normal((4, 2))
    forward(layer, x1, "Linear")
    forward(layer, x2, "Linear")
    expect.close(layer.backward(g), g @ layer.weight,
                 what="Linear.backward after two forward calls", rtol=1e-10,
                 atol=1e-12, oracle="grad_out @ weight")
    expect.close(layer.grad_weight, g.T @ x2,
                 what="Linear.grad_weight after two forward calls (it must use the latest input)",
                 rtol=1e-10, atol=1e-12, oracle="grad_out.T @ x of the latest forward")


def test_softmax_matches_torch_and_is_stable(solution):
    z = rng(14).standard_normal((4, 5))
    expect.close(solution.softmax(z), torch.softmax(t(z), dim=1).numpy(), what="softmax(z)", **FWD)
    big = z * 1000.0
    got = expect.array(solution.softmax(big), "softmax")
    assert np.all(np.isfinite(got)), (
        "softmax of logits around ±1000 contains NaN or inf: subtract each row's max before exp()"
    )
    expect.close(got, torch.softmax(t(big), dim=1).numpy(), what="softmax of logits around ±1000",
                 **FWD)


def test_cross_entropy_forward_matches_torch(solution):
    z = rng(15).standard_normal((6, 4)) * 2
    y = np.array([0, 3, 1, 1, 2, 0])
    want = F.cross_entropy(t(z), torch.tensor(y)).item()
    expect.close(solution.SoftmaxCrossEntropy().forward(z, y), want,
                 what="SoftmaxCrossEntropy.forward (mean over the batch)", **FWD)
    big = z * 1000.0
    got = solution.SoftmaxCrossEntropy().forward(big, y)
    assert np.isfinite(got), (
        "SoftmaxCrossEntropy.forward of logits around ±1000 is NaN or inf: use the log-sum-exp "
        "trick (subtract the row max)"
    )
    expect.close(got, F.cross_entropy(t(big), torch.tensor(y)).item(),
                 what="SoftmaxCrossEntropy.forward of logits around ±1000", **FWD)


def test_cross_entropy_backward_matches_finite_differences(solution):
    loss = solution.SoftmaxCrossEntropy()
    z = rng(16).standard_normal((5, 3)) * 2
    y = np.array([2, 0, 1, 2, 2])
    want = numerical_grad(lambda: loss.forward(z, y), z)
    loss.forward(z, y)
    assert_grad(loss.backward(), want, what="SoftmaxCrossEntropy.backward (grad of logits)",
                against="finite differences", limit=LIMIT)


def test_cross_entropy_backward_matches_torch_autograd(solution):
    loss = solution.SoftmaxCrossEntropy()
    z = rng(17).standard_normal((7, 4))
    y = np.array([3, 3, 0, 1, 2, 0, 1])
    tz = t(z, True)
    F.cross_entropy(tz, torch.tensor(y)).backward()
    loss.forward(z, y)
    assert_grad(loss.backward(), tz.grad.numpy(),
                what="SoftmaxCrossEntropy.backward (grad of logits)", against="torch autograd",
                limit=LIMIT)


def test_small_network_backpropagates_like_torch(solution):
    """Linear → Tanh → Linear → ReLU → Linear → Sigmoid → Linear → softmax cross-entropy."""
    sizes = [6, 5, 5, 4, 3]
    layers = [linear(solution, a, b, seed=20 + i) for i, (a, b) in
              enumerate(zip(sizes[:-1], sizes[1:], strict=True))]
    acts = [solution.Tanh(), solution.ReLU(), solution.Sigmoid()]
    torch_acts = [torch.tanh, torch.relu, torch.sigmoid]
    loss = solution.SoftmaxCrossEntropy()
    x = rng(30).standard_normal((9, 6))
    y = rng(31).integers(0, 3, size=9)

    params = [(t(lay.weight, True), t(lay.bias, True)) for lay in layers]
    h = t(x, True)
    tx = h
    for i, (w, b) in enumerate(params):
        h = F.linear(h, w, b)
        if i < len(acts):
            h = torch_acts[i](h)
    F.cross_entropy(h, torch.tensor(y)).backward()

    a = x
    chain = [m for pair in zip(layers, [*acts, None], strict=True) for m in pair if m is not None]
    for m in chain:
        a = m.forward(a)
    expect.close(loss.forward(a, y), F.cross_entropy(h.detach(), torch.tensor(y)).item(),
                 what="the loss of the small network", **FWD)
    g = loss.backward()
    for m in reversed(chain):
        g = m.backward(g)
    assert_grad(g, tx.grad.numpy(), what="the network's grad of its input",
                against="torch autograd", limit=LIMIT)
    for i, (lay, (w, b)) in enumerate(zip(layers, params, strict=True)):
        assert_grad(lay.grad_weight, w.grad.numpy(), what=f"grad_weight of Linear #{i + 1}",
                    against="torch autograd", limit=LIMIT)
        assert_grad(lay.grad_bias, b.grad.numpy(), what=f"grad_bias of Linear #{i + 1}",
                    against="torch autograd", limit=LIMIT)

"""Day 38 grader: numpy BatchNorm2d against nn.BatchNorm2d (train and eval outputs, running
statistics, gradients) and learning-rate schedules against torch.optim.lr_scheduler."""

import warnings

import numpy as np
import pytest
import torch
import torch._dynamo  # noqa: F401  (see below)
from torch import nn
from torch.optim import lr_scheduler as L

from graders import expect, forbid
from graders.gradcheck import assert_grad

torch.set_num_threads(1)
# Making a torch optimiser imports torch._dynamo, which wraps torch.manual_seed; importing it
# here, before the solution runs, keeps the grading run's module guard from calling that tampering.
FWD = dict(rtol=1e-9, atol=1e-10, oracle="torch.nn.BatchNorm2d")
LR = dict(rtol=1e-9, atol=1e-12, oracle="torch.optim.lr_scheduler")
LIMIT = 1e-6  # relative error of a gradient


def pair(c, eps=1e-5, momentum=0.1, seed=0, solution=None):
    """The learner's BatchNorm2d and torch's, with the same random weight and bias."""
    r = np.random.default_rng(seed)
    w, b = r.uniform(0.5, 2.0, size=c), r.standard_normal(c)
    ours = solution.BatchNorm2d(c, eps=eps, momentum=momentum)
    ours.weight, ours.bias = w.copy(), b.copy()
    ref = nn.BatchNorm2d(c, eps=eps, momentum=momentum).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(w))
        ref.bias.copy_(torch.tensor(b))
    return ours, ref


def batch(shape, seed):
    """Channels on very different scales and offsets: statistics must be per channel."""
    r = np.random.default_rng(seed)
    c = shape[1]
    scale = np.array([0.5, 3.0, 10.0, 1.0, 2.0][:c])[None, :, None, None]
    shift = np.array([1.0, -4.0, 20.0, 0.0, 5.0][:c])[None, :, None, None]
    return r.standard_normal(shape) * scale + shift


def forward(bn, x, what):
    before = x.copy()
    out = bn.forward(x)
    assert np.array_equal(x, before), f"{what} modified its input in place"
    return out


def lrs(make_scheduler, steps, base_lr):
    """The learning rate torch's scheduler gives each of `steps` optimiser steps."""
    param = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=base_lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SequentialLR's deprecation chatter
        sched = make_scheduler(opt)
        out = []
        for _ in range(steps):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
    return out


def test_no_torch_in_the_solution(solution_dir):
    forbid.assert_not_used(solution_dir, ["torch", "tensorflow", "keras", "jax"],
                           why="write BatchNorm and the schedules yourself")


def test_batchnorm_initial_state(solution):
    bn = solution.BatchNorm2d(4)
    for name, value in (("weight", 1.0), ("bias", 0.0), ("running_mean", 0.0),
                        ("running_var", 1.0)):
        expect.close(getattr(bn, name), np.full(4, value), what=f"BatchNorm2d(4).{name} at start",
                     rtol=0, atol=0, oracle="nn.BatchNorm2d's initial state")
    assert bn.training is True, "a new BatchNorm2d starts in training mode (training = True)"
    assert bn.eval() is bn and bn.training is False, "eval() must set training = False, return self"
    assert bn.train() is bn and bn.training is True, "train() must set training = True, return self"


@pytest.mark.parametrize("shape", [(4, 3, 5, 5), (2, 3, 2, 2), (8, 2, 1, 1)])
def test_training_forward_matches_torch(solution, shape):
    ours, ref = pair(shape[1], seed=1, solution=solution)
    x = batch(shape, seed=2)
    want = ref(torch.tensor(x)).detach().numpy()
    n = shape[0] * shape[2] * shape[3]
    expect.close(forward(ours, x, "BatchNorm2d.forward"), want,
                 what=f"BatchNorm2d training-mode forward of a {shape} batch (statistics per "
                      f"channel over {n} values; normalise with the biased variance)", **FWD)


def test_running_statistics_match_torch(solution):
    ours, ref = pair(3, eps=1e-3, momentum=0.3, seed=3, solution=solution)
    for step in range(3):
        x = batch((4, 3, 3, 3), seed=10 + step)
        forward(ours, x, "BatchNorm2d.forward")
        ref(torch.tensor(x))
    expect.close(ours.running_mean, ref.running_mean.numpy(),
                 what="running_mean after 3 training batches with momentum 0.3 "
                      "(new = (1 - momentum) * old + momentum * batch_mean)", **FWD)
    expect.close(ours.running_var, ref.running_var.numpy(),
                 what="running_var after 3 training batches with momentum 0.3 (updated with "
                      "the UNBIASED batch variance, n / (n - 1))", **FWD)


def test_eval_mode_uses_running_statistics(solution):
    ours, ref = pair(3, seed=4, solution=solution)
    for step in range(4):
        x = batch((5, 3, 4, 4), seed=20 + step)
        forward(ours, x, "BatchNorm2d.forward")
        ref(torch.tensor(x))
    ours.eval()
    ref.eval()
    mean_before, var_before = np.copy(ours.running_mean), np.copy(ours.running_var)
    x = batch((3, 3, 4, 4), seed=30) * 2 + 1  # statistics unlike the training batches
    want = ref(torch.tensor(x)).detach().numpy()
    expect.close(forward(ours, x, "BatchNorm2d.forward"), want,
                 what="BatchNorm2d eval-mode forward (it must normalise with running_mean and "
                      "running_var, not with the batch's own statistics)", **FWD)
    assert np.array_equal(ours.running_mean, mean_before) and np.array_equal(
        ours.running_var, var_before), "an eval-mode forward must not update the running stats"
    one = batch((1, 3, 1, 1), seed=31)
    expect.close(ours.forward(one), ref(torch.tensor(one)).detach().numpy(),
                 what="BatchNorm2d eval-mode forward of a single pixel", **FWD)


@pytest.mark.parametrize("shape", [(4, 3, 3, 3), (2, 2, 2, 3)])
def test_backward_matches_torch_autograd(solution, shape):
    ours, ref = pair(shape[1], seed=5, solution=solution)
    x = batch(shape, seed=6)
    g = np.random.default_rng(7).standard_normal(shape)
    tx = torch.tensor(x, requires_grad=True)
    ref(tx).backward(torch.tensor(g))
    forward(ours, x, "BatchNorm2d.forward")
    grad_x = ours.backward(g)
    what = f"BatchNorm2d.backward on a {shape} batch"
    assert_grad(grad_x, tx.grad.numpy(), what=f"{what}: grad of x (the batch mean and variance "
                "depend on x too)", against="torch autograd", limit=LIMIT)
    assert_grad(ours.grad_weight, ref.weight.grad.numpy(), what=f"{what}: grad_weight",
                against="torch autograd", limit=LIMIT)
    assert_grad(ours.grad_bias, ref.bias.grad.numpy(), what=f"{what}: grad_bias",
                against="torch autograd", limit=LIMIT)


@pytest.mark.parametrize("base_lr,step_size,gamma", [(0.1, 3, 0.1), (0.5, 1, 0.5), (1.0, 4, 0.3)])
def test_step_lr_matches_torch(solution, base_lr, step_size, gamma):
    want = lrs(lambda o: L.StepLR(o, step_size=step_size, gamma=gamma), 13, base_lr)
    got = [solution.step_lr(base_lr, t, step_size, gamma) for t in range(13)]
    expect.close(got, want, what=f"step_lr(base_lr={base_lr}, epoch=0..12, step_size={step_size}, "
                 f"gamma={gamma})", **LR)


@pytest.mark.parametrize("base_lr,T_max,eta_min", [(0.1, 10, 0.0), (0.5, 7, 0.01), (1.0, 1, 0.1)])
def test_cosine_lr_matches_torch(solution, base_lr, T_max, eta_min):
    want = lrs(lambda o: L.CosineAnnealingLR(o, T_max=T_max, eta_min=eta_min), T_max + 1, base_lr)
    got = [solution.cosine_lr(base_lr, t, T_max, eta_min) for t in range(T_max + 1)]
    expect.close(got, want, what=f"cosine_lr(base_lr={base_lr}, epoch=0..{T_max}, T_max={T_max}, "
                 f"eta_min={eta_min})", **LR)


@pytest.mark.parametrize("base_lr,warmup,total", [(0.5, 4, 10), (0.1, 2, 20), (1.0, 5, 6)])
def test_warmup_linear_lr_matches_torch(solution, base_lr, warmup, total):
    def make(o):
        return L.SequentialLR(o, [L.LinearLR(o, 1 / warmup, 1.0, total_iters=warmup - 1),
                                  L.LinearLR(o, 1.0, 0.0, total_iters=total - warmup)],
                              milestones=[warmup])
    want = lrs(make, total + 3, base_lr)
    got = [solution.warmup_linear_lr(base_lr, t, warmup, total) for t in range(total + 3)]
    expect.close(got, want, what=f"warmup_linear_lr(base_lr={base_lr}, step=0..{total + 2}, "
                 f"warmup_steps={warmup}, total_steps={total}) (warm up from base/warmup, "
                 "decay to 0 at total_steps, 0 after)", **LR)

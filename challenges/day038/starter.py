"""Day 38: BatchNorm2d in numpy (training and evaluation modes, running statistics, backward
pass) and three learning-rate schedules, checked against PyTorch."""

import math  # noqa: F401  (you will need them)

import numpy as np  # noqa: F401


class BatchNorm2d:
    """Batch normalisation over (N, C, H, W) float64 arrays, one mean and variance per channel."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        """weight = ones, bias = zeros, running_mean = zeros, running_var = ones, all (C,);
        grad_weight = grad_bias = None; training = True."""
        # TODO
        raise NotImplementedError("BatchNorm2d.__init__")

    def train(self):
        """Training mode; returns self."""
        # TODO
        raise NotImplementedError("BatchNorm2d.train")

    def eval(self):
        """Evaluation mode; returns self."""
        # TODO
        raise NotImplementedError("BatchNorm2d.eval")

    def forward(self, x):
        """Training: normalise with the batch's mean and biased variance per channel and
        update the running statistics. Eval: normalise with the running statistics.
        Returns weight * x_hat + bias (per channel)."""
        # TODO
        raise NotImplementedError("BatchNorm2d.forward")

    def backward(self, grad_out):
        """After a training-mode forward: returns the grad of x; sets grad_weight, grad_bias."""
        # TODO
        raise NotImplementedError("BatchNorm2d.backward")


def step_lr(base_lr, epoch, step_size, gamma=0.1):
    """base_lr multiplied by gamma once every step_size epochs (as torch's StepLR)."""
    # TODO
    raise NotImplementedError("step_lr")


def cosine_lr(base_lr, epoch, T_max, eta_min=0.0):
    """Cosine annealing from base_lr (epoch 0) to eta_min (epoch T_max)."""
    # TODO
    raise NotImplementedError("cosine_lr")


def warmup_linear_lr(base_lr, step, warmup_steps, total_steps):
    """Linear warm-up base_lr * (step + 1) / warmup_steps for step < warmup_steps, then a
    linear decay from base_lr at step = warmup_steps to 0 at step = total_steps; 0 after."""
    # TODO
    raise NotImplementedError("warmup_linear_lr")

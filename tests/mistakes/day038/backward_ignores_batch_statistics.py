# mistake: the backward pass treats the batch mean and variance as constants
# expect: grad of x


import math

import numpy as np


class BatchNorm2d:
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        self.eps, self.momentum = eps, momentum
        self.weight = np.ones(num_features)
        self.bias = np.zeros(num_features)
        self.running_mean = np.zeros(num_features)
        self.running_var = np.ones(num_features)
        self.grad_weight = self.grad_bias = None
        self.training = True

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def forward(self, x):
        axes = (0, 2, 3)  # statistics per channel, over the batch and every position
        if self.training:
            mean = x.mean(axis=axes)
            var = x.var(axis=axes)  # biased (divide by n): what the batch is normalised with
            n = x.size // x.shape[1]
            m = self.momentum
            self.running_mean = (1 - m) * self.running_mean + m * mean
            # the running estimate is of the population variance: unbiased (divide by n - 1)
            self.running_var = (1 - m) * self.running_var + m * var * n / (n - 1)
        else:
            mean, var = self.running_mean, self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat = (x - mean[None, :, None, None]) * inv_std[None, :, None, None]
        self._cache = (x_hat, inv_std)
        return self.weight[None, :, None, None] * x_hat + self.bias[None, :, None, None]

    def backward(self, grad_out):
        """For a training-mode forward: mean and variance depend on x too."""
        x_hat, inv_std = self._cache
        axes = (0, 2, 3)
        self.grad_weight = (grad_out * x_hat).sum(axis=axes)
        self.grad_bias = grad_out.sum(axis=axes)
        g = grad_out * self.weight[None, :, None, None]  # gradient with respect to x_hat
        # d x_hat / d x, with the mean and the variance both functions of x:
        return inv_std[None, :, None, None] * g


def step_lr(base_lr, epoch, step_size, gamma=0.1):
    return base_lr * gamma ** (epoch // step_size)


def cosine_lr(base_lr, epoch, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * epoch / T_max)) / 2


def warmup_linear_lr(base_lr, step, warmup_steps, total_steps):
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    return base_lr * max(0.0, (total_steps - step) / (total_steps - warmup_steps))

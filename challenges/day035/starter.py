"""Day 35: 2-D convolution and pooling in numpy, with stride, padding and dilation.

Arrays are NCHW: x has shape (N, C, H, W). An argument documented as "int or pair" is
either one int for both directions or a (height, width) pair.
"""

import numpy as np  # noqa: F401  (you will need it)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """Cross-correlation of x (N, C_in, H, W) with weight (C_out, C_in, kH, kW), plus bias
    (C_out,) if given. stride, padding (zeros, on both sides) and dilation: int or pair.
    Returns (N, C_out, H_out, W_out) float64 with
        H_out = (H + 2*pad_h - dil_h*(kH - 1) - 1) // stride_h + 1   (same for W).
    ValueError if C_in differs between x and weight, or if H_out or W_out < 1."""
    # TODO
    raise NotImplementedError("conv2d")


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1):
    """Max over each (dilated) window; stride defaults to kernel_size; padding counts as
    -inf. All size arguments: int or pair. Returns (N, C, H_out, W_out)."""
    # TODO
    raise NotImplementedError("max_pool2d")


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over each window; stride defaults to kernel_size; zero padding counts in the
    average (every window divides by kH * kW). Returns (N, C, H_out, W_out)."""
    # TODO
    raise NotImplementedError("avg_pool2d")

"""Day 35 grader: numpy conv2d, max_pool2d and avg_pool2d against torch.nn.functional."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from graders import expect, forbid

torch.set_num_threads(1)
TOL = dict(rtol=1e-9, atol=1e-10, oracle="torch.nn.functional")

# (x shape, (C_out, kH, kW), stride, padding, dilation, bias?)
CONV_CASES = [
    ((1, 1, 5, 5), (1, 3, 3), 1, 0, 1, False),
    ((2, 3, 8, 8), (4, 3, 3), 1, 1, 1, True),
    ((2, 3, 9, 7), (5, 2, 3), 2, 0, 1, True),
    ((2, 2, 11, 9), (3, 3, 2), (2, 1), (0, 2), 1, True),
    ((1, 2, 10, 10), (3, 3, 3), 1, 0, 2, True),
    ((2, 2, 11, 9), (3, 3, 2), 1, 1, (2, 1), True),
    ((3, 4, 6, 6), (2, 1, 1), 1, 0, 1, True),
    ((1, 3, 5, 5), (2, 5, 5), 1, 0, 1, True),
    ((2, 1, 12, 12), (2, 2, 2), 3, 1, 1, False),
    ((2, 3, 7, 7), (2, 3, 3), 2, 2, 3, True),
    ((4, 8, 16, 16), (8, 3, 3), 1, 1, 1, True),
]
# (x shape, kernel_size, stride, padding, dilation)
MAX_CASES = [
    ((2, 3, 8, 8), 2, None, 0, 1),
    ((1, 2, 9, 7), (3, 2), (2, 1), (1, 0), 1),
    ((2, 2, 10, 10), 3, 2, 1, 2),
    ((2, 3, 7, 6), (2, 3), 1, (1, 1), (1, 2)),
]
AVG_CASES = [
    ((2, 3, 8, 8), 2, None, 0),
    ((2, 1, 6, 6), 3, 3, 0),
    ((1, 2, 9, 7), (3, 2), (2, 1), (1, 1)),
    ((1, 2, 7, 7), 3, 2, 1),
]


def call(fn, what, x, *args, **kwargs):
    before = x.copy()
    out = fn(x, *args, **kwargs)
    assert np.array_equal(x, before), f"{what} modified its input in place"
    return out


def test_no_library_convolution(solution_dir):
    forbid.assert_not_used(solution_dir, ["torch", "scipy.signal", "scipy.ndimage", "tensorflow",
                                          "jax", "keras"],
                           why="write the sliding windows yourself in numpy")


@pytest.mark.parametrize("shape,kernel,stride,padding,dilation,bias", CONV_CASES)
def test_conv2d_matches_torch(solution, shape, kernel, stride, padding, dilation, bias):
    r = np.random.default_rng(sum(shape) + sum(kernel))
    x = r.standard_normal(shape)
    w = r.standard_normal((kernel[0], shape[1], kernel[1], kernel[2]))
    b = r.standard_normal(kernel[0]) if bias else None
    want = F.conv2d(torch.tensor(x), torch.tensor(w), None if b is None else torch.tensor(b),
                    stride=stride, padding=padding, dilation=dilation).numpy()
    what = (f"conv2d(x {shape}, weight {w.shape}, bias={'yes' if bias else 'None'}, "
            f"stride={stride}, padding={padding}, dilation={dilation})")
    got = call(solution.conv2d, what, x, w, b, stride=stride, padding=padding, dilation=dilation)
    expect.close(got, want, what=what, **TOL)


def test_conv2d_is_a_cross_correlation(solution):
    """One channel, one asymmetric kernel: the output at (0, 0) is Σ x[i, j]·w[i, j]."""
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.array([[[[1.0, 0.0], [0.0, 0.0]]]])  # picks the top-left of each window
    got = expect.array(solution.conv2d(x, w), "conv2d")
    expect.close(got, [[[[0.0, 1.0], [3.0, 4.0]]]],
                 what="conv2d of arange(9) by a kernel with a 1 at its top-left", rtol=0,
                 atol=1e-12, oracle="cross-correlation (deep-learning 'convolution' does not "
                                    "flip the kernel)")


def test_conv2d_rejects_mismatched_channels(solution):
    x = np.zeros((1, 3, 5, 5))
    expect.raises(ValueError, solution.conv2d, x, np.zeros((2, 4, 3, 3)),
                  what="conv2d", why="an input with 3 channels and a weight for 4")
    expect.raises(ValueError, solution.conv2d, x, np.zeros((2, 3, 7, 7)),
                  what="conv2d", why="a 7x7 kernel on a 5x5 input without padding")


@pytest.mark.parametrize("shape,kernel,stride,padding,dilation", MAX_CASES)
def test_max_pool2d_matches_torch(solution, shape, kernel, stride, padding, dilation):
    x = np.random.default_rng(sum(shape)).standard_normal(shape)
    want = F.max_pool2d(torch.tensor(x), kernel, stride=stride, padding=padding,
                        dilation=dilation).numpy()
    what = (f"max_pool2d(x {shape}, kernel_size={kernel}, stride={stride}, padding={padding}, "
            f"dilation={dilation})")
    got = call(solution.max_pool2d, what, x, kernel, stride=stride, padding=padding,
               dilation=dilation)
    expect.close(got, want, what=what, **TOL)


def test_max_pool2d_pads_with_minus_infinity(solution):
    x = -1.0 - np.random.default_rng(3).random((1, 2, 5, 5))  # every value below -1
    want = F.max_pool2d(torch.tensor(x), 3, stride=2, padding=1).numpy()
    expect.close(solution.max_pool2d(x, 3, stride=2, padding=1), want,
                 what="max_pool2d of an all-negative input with padding=1 (padding must never "
                      "win the max: pad with -inf, not 0)", **TOL)


@pytest.mark.parametrize("shape,kernel,stride,padding", AVG_CASES)
def test_avg_pool2d_matches_torch(solution, shape, kernel, stride, padding):
    x = np.random.default_rng(sum(shape) + 1).standard_normal(shape)
    want = F.avg_pool2d(torch.tensor(x), kernel, stride=stride, padding=padding).numpy()
    what = (f"avg_pool2d(x {shape}, kernel_size={kernel}, stride={stride}, padding={padding}; "
            "zero padding counts in the average, count_include_pad=True)")
    got = call(solution.avg_pool2d, what, x, kernel, stride=stride, padding=padding)
    expect.close(got, want, what=what, **TOL)

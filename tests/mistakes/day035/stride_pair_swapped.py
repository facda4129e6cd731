# mistake: a (h, w) stride is read as (w, h)
# expect: stride=(2, 1)


import numpy as np


def _pair(value):
    return (value, value) if isinstance(value, (int, np.integer)) else tuple(value)[::-1]


def _out_size(size, kernel, stride, padding, dilation):
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _windows(xp, kernel, stride, dilation, out_hw):
    """For each kernel offset (i, j): the (N, C, H_out, W_out) slice of the padded input
    that the offset touches, so the kernel loop is short and everything else vectorised."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    for i in range(kh):
        for j in range(kw):
            yield i, j, xp[:, :, i * dh: i * dh + sh * (ho - 1) + 1: sh,
                           j * dw: j * dw + sw * (wo - 1) + 1: sw]


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    x, weight = np.asarray(x, dtype=np.float64), np.asarray(weight, dtype=np.float64)
    n, c, h, w = x.shape
    f, c_w, kh, kw = weight.shape
    if c != c_w:
        raise ValueError(f"input has {c} channels but the weight expects {c_w}")
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    ho, wo = _out_size(h, kh, sh, ph, dh), _out_size(w, kw, sw, pw, dw)
    if ho < 1 or wo < 1:
        raise ValueError(f"the kernel does not fit: output would be {ho}x{wo}")
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = np.zeros((n, f, ho, wo))
    for i, j, patch in _windows(xp, (kh, kw), (sh, sw), (dh, dw), (ho, wo)):
        # cross-correlation, as in deep learning: the kernel is not flipped
        out += np.einsum("nchw,fc->nfhw", patch, weight[:, :, i, j])
    if bias is not None:
        out += np.asarray(bias, dtype=np.float64)[None, :, None, None]
    return out


def _pool(x, kernel_size, stride, padding, dilation, pad_value, reduce):
    x = np.asarray(x, dtype=np.float64)
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(kernel_size if stride is None else stride)
    (ph, pw), (dh, dw) = _pair(padding), _pair(dilation)
    ho = _out_size(x.shape[2], kh, sh, ph, dh)
    wo = _out_size(x.shape[3], kw, sw, pw, dw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    patches = [p for _, _, p in _windows(xp, (kh, kw), (sh, sw), (dh, dw), (ho, wo))]
    return reduce(np.stack(patches), axis=0)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1):
    # padding never wins a max: pad with -inf
    return _pool(x, kernel_size, stride, padding, dilation, -np.inf, np.max)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    # the zero padding counts in the average (torch's count_include_pad=True)
    return _pool(x, kernel_size, stride, padding, 1, 0.0, np.mean)

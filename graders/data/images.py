"""A small CIFAR-10-shaped image set, generated deterministically (no download).

Colour images of 3×32×32 in 10 classes; each image is one object — a shape or a textured
patch — at a random place, size and colour on a noisy background:

    0 disc      1 square     2 triangle   3 cross       4 ring
    5 h-stripes 6 v-stripes  7 checker    8 diagonals   9 frame

The class is the object's form, which moves around the image, so a model must find
local patterns wherever they are: a small CNN learns it in seconds, while a linear model
on the raw pixels does much worse. Colour carries a little information (each class leans
towards its own hue) but far too little to rely on.

    from graders.data.images import load_images
    X_train, y_train, X_test, y_test = load_images()    # the fixed split graders use
    X_train.shape, X_train.dtype                         # (2000, 3, 32, 32) float32 in [0, 1]
    y_train.shape, y_train.dtype                         # (2000,) int64, 200 of each class

`make_images(n, seed)` draws any other number of images; same arguments, same images.
"""

from __future__ import annotations

import numpy as np

CLASSES = ("disc", "square", "triangle", "cross", "ring",
           "h-stripes", "v-stripes", "checker", "diagonals", "frame")
SIZE = 32
TRAIN_SIZE, TEST_SIZE, SEED = 2000, 1000, 36

_YY, _XX = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)


def _mask(label: int, rng: np.random.Generator) -> np.ndarray:
    """The object's coverage (SIZE×SIZE, values in [0, 1]) for one image of `label`."""
    r = rng.uniform(6.0, 10.0)  # half-size of the object, in pixels
    cy, cx = rng.uniform(r + 1, SIZE - r - 1, size=2)
    dy, dx = _YY - cy, _XX - cx
    box = np.maximum(np.abs(dy), np.abs(dx))
    dist = np.hypot(dy, dx)
    period = rng.choice([4.0, 6.0])
    phase = rng.uniform(0, period)

    def stripes(coord):
        return ((coord + phase) % period) < period / 2

    if label == 0:  # disc
        m = dist <= r
    elif label == 1:  # square
        m = box <= 0.85 * r
    elif label == 2:  # triangle, pointing up or down
        sign = rng.choice([-1.0, 1.0])
        t = (sign * dy + r) / (2 * r)  # 0 at the tip, 1 at the base
        m = (t >= 0) & (t <= 1) & (np.abs(dx) <= t * r)
    elif label == 3:  # cross (plus sign)
        arm = max(1.5, 0.3 * r)
        m = ((np.abs(dx) <= arm) & (np.abs(dy) <= r)) | ((np.abs(dy) <= arm) & (np.abs(dx) <= r))
    elif label == 4:  # ring
        m = (dist <= r) & (dist >= 0.55 * r)
    elif label == 5:  # horizontal stripes in a square patch
        m = (box <= r) & stripes(_YY)
    elif label == 6:  # vertical stripes
        m = (box <= r) & stripes(_XX)
    elif label == 7:  # checkerboard
        m = (box <= r) & (stripes(_YY) ^ stripes(_XX + phase))
    elif label == 8:  # diagonal stripes, either direction
        diag = _YY + _XX if rng.random() < 0.5 else _YY - _XX + SIZE
        m = (box <= r) & stripes(diag)
    else:  # hollow square frame
        m = (box <= r) & (box >= 0.6 * r)
    return m.astype(np.float32)


def _hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    k = (np.array([5.0, 3.0, 1.0]) + h * 6.0) % 6.0
    return (v - v * s * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)).astype(np.float32)


def make_images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n` images (n, 3, 32, 32) float32 in [0, 1] and labels (n,) int64, balanced across
    the classes (n // 10 each, the rest spread from class 0) and shuffled."""
    rng = np.random.default_rng([SEED, seed])
    y = np.arange(n, dtype=np.int64) % len(CLASSES)
    rng.shuffle(y)
    X = np.empty((n, 3, SIZE, SIZE), dtype=np.float32)
    for i, label in enumerate(y):
        mask = _mask(int(label), rng)
        hue = (label / len(CLASSES) + rng.normal(0.0, 0.25)) % 1.0  # a weak colour cue
        fg = _hsv_to_rgb(hue, rng.uniform(0.5, 1.0), rng.uniform(0.7, 1.0))
        bg = _hsv_to_rgb(rng.random(), rng.uniform(0.0, 0.6), rng.uniform(0.05, 0.45))
        img = bg[:, None, None] + mask[None] * (fg - bg)[:, None, None]
        img += rng.normal(0.0, 0.06, size=img.shape).astype(np.float32)
        X[i] = np.clip(img, 0.0, 1.0)
    return X, y


def load_images(train_size: int = TRAIN_SIZE, test_size: int = TEST_SIZE):
    """The fixed split: (X_train, y_train, X_test, y_test), drawn from separate streams."""
    X_train, y_train = make_images(train_size, seed=0)
    X_test, y_test = make_images(test_size, seed=1)
    return X_train, y_train, X_test, y_test

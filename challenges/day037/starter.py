"""Day 37: a data-augmentation pipeline in numpy — flips, crops and colour jitter.

Images are numpy arrays (C, H, W) (flips also accept (N, C, H, W)) with values in [0, 1].
Every random choice comes from the `rng` argument, a numpy Generator
(np.random.default_rng(seed)): the same seed must give the same augmentations.
"""

import numpy as np  # noqa: F401  (you will need it)


def hflip(img):
    """Mirror left-right (reverse the width axis, the last one); returns a new array."""
    # TODO
    raise NotImplementedError("hflip")


def vflip(img):
    """Turn upside down (reverse the height axis, the second to last); a new array."""
    # TODO
    raise NotImplementedError("vflip")


def random_hflip(img, rng, p=0.5):
    """hflip(img) with probability p, else a copy of img."""
    # TODO
    raise NotImplementedError("random_hflip")


def random_crop(img, size, rng, padding=0):
    """Zero-pad (C, H, W) by `padding` on every side, then cut a window of `size` (int, or a
    (height, width) pair) at a uniformly random position; ValueError if it does not fit."""
    # TODO
    raise NotImplementedError("random_crop")


def color_jitter(img, rng, brightness=0.0, contrast=0.0, saturation=0.0):
    """For an RGB image (3, H, W): brightness, then contrast, then saturation, each with a
    factor drawn uniformly from [max(0, 1 - x), 1 + x] (skipped when x == 0), clipping to
    [0, 1] after each step. See the spec for the three formulas."""
    # TODO
    raise NotImplementedError("color_jitter")


def augment_batch(X, seed):
    """X (N, 3, H, W) -> a new array: each image padded by 4 and randomly cropped back to
    (H, W), randomly flipped (p=0.5), then colour-jittered with 0.2, 0.2, 0.2, using
    np.random.default_rng(seed) for everything."""
    # TODO
    raise NotImplementedError("augment_batch")

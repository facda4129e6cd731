"""Day 37 grader: flips, crops and colour jitter — invariants, ranges and seeded determinism."""

import random

import numpy as np
import pytest
import torch

from graders import expect, forbid

GRAY = np.array([0.299, 0.587, 0.114])
DRAWS = 300


def image(shape=(3, 8, 10), low=0.0, high=1.0, seed=0):
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(np.float32)


def gray(img):
    return np.tensordot(GRAY, np.asarray(img, dtype=np.float64), axes=1)


def unchanged_call(fn, what, img, *args, **kwargs):
    before = img.copy()
    out = fn(img, *args, **kwargs)
    assert np.array_equal(img, before), f"{what} modified its input image in place"
    assert isinstance(out, np.ndarray), (
        f"{what} must return a numpy array, got {type(out).__name__}"
    )
    assert not np.shares_memory(out, img), (
        f"{what} returned a view of its input (it shares its memory): return a new array")
    return out


def test_no_image_library(solution_dir):
    forbid.assert_not_used(solution_dir, ["torch", "torchvision", "PIL", "cv2", "albumentations",
                                          "skimage", "scipy.ndimage", "tensorflow", "keras"],
                           why="write the augmentations yourself in numpy")


def test_flips_match_torch_flip(solution):
    for shape in [(3, 5, 7), (2, 3, 4, 6)]:
        x = image(shape, seed=1)
        expect.close(unchanged_call(solution.hflip, "hflip", x), torch.flip(torch.tensor(x), [-1]),
                     what=f"hflip of an image of shape {shape} (mirror left-right: the last axis)",
                     rtol=0, atol=0, oracle="torch.flip(img, dims=[-1])")
        expect.close(unchanged_call(solution.vflip, "vflip", x), torch.flip(torch.tensor(x), [-2]),
                     what=f"vflip of an image of shape {shape} (upside down: the height axis)",
                     rtol=0, atol=0, oracle="torch.flip(img, dims=[-2])")


def test_flipping_twice_is_the_identity(solution):
    x = image((3, 6, 9), seed=2)
    for name in ("hflip", "vflip"):
        fn = getattr(solution, name)
        expect.close(fn(fn(x)), x, what=f"{name}({name}(img))", rtol=0, atol=0,
                     oracle="the image itself (a flip is its own inverse)")
    expect.close(solution.hflip(solution.vflip(x)), solution.vflip(solution.hflip(x)),
                 what="hflip(vflip(img))", rtol=0, atol=0, oracle="vflip(hflip(img))")


def test_random_hflip_probability_and_outcomes(solution):
    x = image((3, 4, 5), seed=3)
    flipped = x[..., ::-1]
    for p, want in ((1.0, flipped), (0.0, x)):
        rng = np.random.default_rng(0)
        for _ in range(10):
            expect.close(solution.random_hflip(x, rng, p=p), want, what=f"random_hflip with p={p}",
                         rtol=0, atol=0, oracle="always flipped" if p else "never flipped")
    rng = np.random.default_rng(4)
    outs = [solution.random_hflip(x, rng, p=0.5) for _ in range(400)]
    flips = 0
    for out in outs:
        is_flip, is_same = np.array_equal(out, flipped), np.array_equal(out, x)
        assert is_flip or is_same, (
            "random_hflip returned something that is neither the image nor its mirror"
        )
        flips += is_flip
    assert 0.4 <= flips / 400 <= 0.6, (
        f"random_hflip(p=0.5) flipped {flips} of 400 images; expected about half"
    )
    rng_a, rng_b = np.random.default_rng(9), np.random.default_rng(9)
    a = [np.array_equal(solution.random_hflip(x, rng_a), flipped) for _ in range(40)]
    b = [np.array_equal(solution.random_hflip(x, rng_b), flipped) for _ in range(40)]
    assert a == b, "random_hflip with two generators seeded alike made different choices"


def test_random_crop_shapes_and_errors(solution):
    x = image((3, 32, 32), seed=5)
    rng = np.random.default_rng(0)
    out = unchanged_call(solution.random_crop, "random_crop", x, 32, rng, padding=4)
    assert out.shape == (3, 32, 32), f"random_crop(size=32, padding=4) has shape {out.shape}"
    out = solution.random_crop(x, (20, 12), rng)
    assert out.shape == (3, 20, 12), (
        f"random_crop(size=(20, 12)) has shape {out.shape}, expected (3, 20, 12): (height, width)"
    )
    expect.close(solution.random_crop(x, 32, rng), x, what="random_crop(size=32) of a 32x32 image "
                 "without padding", rtol=0, atol=0, oracle="the image itself (only one window)")
    expect.raises(ValueError, solution.random_crop, x, 41, rng, 4, what="random_crop",
                  why="a 41x41 crop of a 32x32 image padded by 4 (40x40)")


def test_random_crop_is_a_uniform_window_of_the_zero_padded_image(solution):
    x = image((2, 6, 6), low=0.1, seed=6)  # no zeros inside: padding is recognisable
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    windows = {(t, c): padded[:, t:t + 4, c:c + 4] for t in range(5) for c in range(5)}
    counts = dict.fromkeys(windows, 0)
    rng = np.random.default_rng(7)
    n = 1500
    for _ in range(n):
        out = solution.random_crop(x, 4, rng, padding=1)
        hit = [k for k, w in windows.items() if np.array_equal(out, w)]
        assert hit, (
            "random_crop(size=4, padding=1) returned an array that is no 4x4 window of the image "
            "padded with one row and column of zeros on every side"
        )
        counts[hit[0]] += 1
    missing = sorted(k for k, v in counts.items() if v == 0)
    assert not missing, (
        f"in {n} crops, random_crop never chose offset(s) {missing[:4]} of the 5x5 possible "
        "(top, left) offsets 0..4: the largest offset H + 2*padding - size is allowed too "
        "(rng.integers excludes its upper bound)"
    )
    expected = n / 25
    worst = max(counts.items(), key=lambda kv: abs(kv[1] - expected))
    assert abs(worst[1] - expected) < 0.5 * expected, (
        f"random_crop chose offset {worst[0]} {worst[1]} times in {n} crops; a uniform choice "
        f"gives about {expected:.0f} for each of the 25 offsets"
    )


def test_color_jitter_identity_and_range(solution):
    x = image((3, 8, 8), seed=8)
    rng = np.random.default_rng(0)
    out = unchanged_call(solution.color_jitter, "color_jitter", x, rng)
    expect.close(out, x, what="color_jitter with brightness = contrast = saturation = 0",
                 rtol=0, atol=1e-6, oracle="the image itself")
    extreme = x.copy()
    extreme[:, :4] = 0.98  # near white
    extreme[:, 4:] = 0.02  # near black
    for _ in range(100):
        out = solution.color_jitter(extreme, rng, brightness=0.5, contrast=0.5, saturation=0.5)
        assert out.shape == x.shape, f"color_jitter changed the shape to {out.shape}"
        assert np.all(np.isfinite(out)) and out.min() >= 0.0 and out.max() <= 1.0, (
            f"color_jitter returned values outside [0, 1] (from {out.min():.3f} to "
            f"{out.max():.3f}): clip after each adjustment"
        )


def _factors(solution, kind, fit):
    """Run color_jitter with one adjustment at 0.4 and recover its factor from each output."""
    x = image((3, 6, 6), low=0.3, high=0.7, seed=10)  # no clipping for factors in [0.6, 1.4]
    rng = np.random.default_rng(11)
    found = []
    for _ in range(DRAWS):
        out = np.asarray(solution.color_jitter(x, rng, **{kind: 0.4}), dtype=np.float64)
        found.append(fit(x.astype(np.float64), out))
    f = np.array(found)
    assert f.min() >= 0.6 - 1e-4 and f.max() <= 1.4 + 1e-4, (
        f"{kind} factors range from {f.min():.3f} to {f.max():.3f}; with {kind}=0.4 each factor "
        "is drawn uniformly from [0.6, 1.4]"
    )
    assert f.min() < 0.65 and f.max() > 1.35, (
        f"over {DRAWS} draws the {kind} factors only span [{f.min():.3f}, {f.max():.3f}]; "
        f"with {kind}=0.4 they must cover [1 - 0.4, 1 + 0.4] uniformly (both darker/weaker "
        "and brighter/stronger)"
    )


def _linear_factor(x, out, anchor, what):
    """Fit out - anchor = f (x - anchor) and check that it holds exactly."""
    d_in, d_out = x - anchor, out - anchor
    f = float(np.sum(d_in * d_out) / np.sum(d_in * d_in))
    residual = np.abs(d_out - f * d_in).max()
    assert residual < 1e-4, (
        f"{what} (largest deviation {residual:.2e})"
    )
    return f


def test_brightness_scales_every_pixel_by_one_factor(solution):
    def fit(x, out):
        return _linear_factor(x, out, 0.0, "brightness must multiply every pixel and channel "
                                            "by one factor: out = clip(f * img)")
    _factors(solution, "brightness", fit)


def test_contrast_blends_with_the_mean_grey_level(solution):
    def fit(x, out):
        return _linear_factor(x, out, gray(x).mean(),
                              "contrast must blend every pixel with one grey level, the mean of "
                              "0.299 R + 0.587 G + 0.114 B over the image: "
                              "out = clip(f * img + (1 - f) * mean_grey)")
    _factors(solution, "contrast", fit)


def test_saturation_keeps_each_pixels_grey_level(solution):
    def fit(x, out):
        expect.close(gray(out), gray(x), what="the grey level (0.299 R + 0.587 G + 0.114 B) of "
                     "each pixel after a saturation change", rtol=0, atol=1e-5,
                     oracle="the grey level before it (saturation blends with it)")
        return _linear_factor(x, out, gray(x)[None],
                              "saturation must blend each pixel with its own grey level: "
                              "out = clip(f * img + (1 - f) * grey)")
    _factors(solution, "saturation", fit)


def test_contrast_blends_with_the_grey_level_after_brightness(solution):
    # brightness then contrast, no clipping in this range: out = fc·fb·x + (1 − fc)·fb·m with
    # m the mean grey of x, so each output gives back both factors, and both must lie in
    # [0.6, 1.4]. A contrast around the mean grey taken before brightness fits the same line
    # with factors that, over the draws, leave that range
    x = image((3, 6, 6), low=0.35, high=0.5, seed=16)
    m = float(gray(x).mean())
    rng = np.random.default_rng(17)
    for _ in range(DRAWS):
        out = np.asarray(solution.color_jitter(x, rng, brightness=0.4, contrast=0.4),
                         dtype=np.float64)
        d = x.astype(np.float64) - x.mean()
        a = float(np.sum(d * (out - out.mean())) / np.sum(d * d))
        b = float(out.mean() - a * x.mean())
        fb = a + b / m
        fc = a / fb
        if not (0.6 - 1e-4 <= fb <= 1.4 + 1e-4 and 0.6 - 1e-4 <= fc <= 1.4 + 1e-4):
            pytest.fail(
                "brightness then contrast: the output implies a brightness factor "
                f"{fb:.3f} and a contrast factor {fc:.3f}, outside [0.6, 1.4]. Contrast "
                "blends with the mean grey level of the image as brightness left it, not "
                "of the input", pytrace=False)


def _brightness_contrast_factors(out, x, m):
    """(fb, fc) from out = fc·fb·x + (1 − fc)·fb·m, brightness then contrast, no clipping."""
    d = x - x.mean()
    a = float(np.sum(d * (out - out.mean())) / np.sum(d * d))
    b = float(out.mean() - a * x.mean())
    fb = a + b / m
    return fb, a / fb


def test_color_jitter_clips_after_each_step(solution):
    # the factors of one seed come from an image that never clips; the same seed on an image
    # whose bright rows brightness pushes past 1 must give clip(contrast(clip(brightness))),
    # where the contrast mean is taken over the clipped image — not one clip at the end
    low = image((3, 6, 6), low=0.35, high=0.5, seed=16)
    high = low.copy()
    high[:, :3] = 0.95
    m = float(gray(low).mean())
    clipped = 0
    for seed in range(40):
        out = solution.color_jitter(low, np.random.default_rng(seed), brightness=0.4,
                                    contrast=0.4)
        fb, fc = _brightness_contrast_factors(np.asarray(out, dtype=np.float64),
                                              low.astype(np.float64), m)
        y = np.clip(fb * high.astype(np.float64), 0.0, 1.0)
        want = np.clip(fc * y + (1 - fc) * gray(y).mean(), 0.0, 1.0)
        got = np.asarray(solution.color_jitter(high, np.random.default_rng(seed),
                                               brightness=0.4, contrast=0.4), dtype=np.float64)
        clipped += bool(fb * 0.95 > 1.0)
        worst = float(np.abs(got - want).max())
        if worst > 1e-4:
            pytest.fail(
                f"brightness {fb:.3f} then contrast {fc:.3f} on an image with pixels at 0.95: "
                f"the output is up to {worst:.2e} away from clip(contrast(clip(brightness))). "
                "Clip to [0, 1] after each step: contrast blends with the mean grey of the "
                "clipped image", pytrace=False)
    assert clipped >= 5, f"test set-up: only {clipped} of 40 seeds made brightness clip"


def test_every_random_choice_comes_from_the_given_rng(solution):
    x = image((3, 32, 32), seed=12)
    calls = [
        ("random_hflip", lambda r: solution.random_hflip(x, r)),
        ("random_crop", lambda r: solution.random_crop(x, 28, r, padding=2)),
        ("color_jitter", lambda r: solution.color_jitter(x, r, 0.3, 0.3, 0.3)),
    ]
    for name, call in calls:
        runs = []
        for i in range(2):
            np.random.seed(100 + i)  # the global generators must not matter
            random.seed(100 + i)
            torch.manual_seed(100 + i)
            rng = np.random.default_rng(13)
            runs.append([call(rng) for _ in range(8)])
        for a, b in zip(*runs, strict=True):
            assert np.array_equal(a, b), (
                f"{name} with two generators seeded alike gave different results: draw every "
                "random number from the rng argument, not from np.random or random"
            )
        other = [call(np.random.default_rng(14)) for _ in range(8)]
        assert any(not np.array_equal(a, b) for a, b in zip(runs[0], other, strict=True)), (
            f"{name} gave the same 8 results for generators seeded 13 and 14: use the rng"
        )


def test_augment_batch_is_seeded_and_draws_per_image(solution):
    rng = np.random.default_rng(15)
    X = rng.uniform(0, 1, size=(6, 3, 32, 32)).astype(np.float32)
    a = unchanged_call(solution.augment_batch, "augment_batch", X, 0)
    assert a.shape == X.shape, f"augment_batch returned shape {a.shape}, expected {X.shape}"
    assert a.min() >= 0.0 and a.max() <= 1.0, "augment_batch returned values outside [0, 1]"
    expect.close(solution.augment_batch(X, 0), a, what="augment_batch(X, seed=0) run twice",
                 rtol=0, atol=0, oracle="itself (same seed, same result)")
    assert not np.array_equal(solution.augment_batch(X, 1), a), (
        "augment_batch gave the same result for seeds 0 and 1"
    )
    same = np.repeat(X[:1], 8, axis=0)
    out = solution.augment_batch(same, 3)
    distinct = len({o.tobytes() for o in out})
    assert distinct > 1, (
        "augment_batch turned 8 copies of one image into 8 identical results: every image "
        "must get its own random crop, flip and jitter"
    )


@pytest.mark.parametrize("name", ["hflip", "vflip"])
def test_flip_keeps_dtype_and_shape(solution, name):
    x = image((3, 7, 5), seed=16)
    out = getattr(solution, name)(x)
    assert out.shape == x.shape and out.dtype == x.dtype, (
        f"{name} returned {out.dtype} {out.shape}, expected {x.dtype} {x.shape}"
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_random_functions_keep_dtype(solution, dtype):
    x = image((3, 8, 10), low=0.2, high=0.8, seed=17).astype(dtype)
    rng = np.random.default_rng(17)
    outs = {
        "random_hflip": unchanged_call(solution.random_hflip, "random_hflip", x, rng, p=1.0),
        "random_crop": unchanged_call(solution.random_crop, "random_crop", x, (6, 6), rng,
                                      padding=2),
        "color_jitter": unchanged_call(solution.color_jitter, "color_jitter", x, rng, 0.3, 0.3,
                                       0.3),
        "augment_batch": np.asarray(solution.augment_batch(np.stack([x, x]), seed=17)),
    }
    for name, out in outs.items():
        assert out.dtype == x.dtype, (
            f"{name} returned {out.dtype} for a {x.dtype} image: return the same dtype")

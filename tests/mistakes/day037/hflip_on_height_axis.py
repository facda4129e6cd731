# mistake: the horizontal flip reverses the height axis (and the vertical one the width)
# expect: dims=[-1]


import numpy as np

GRAY = np.array([0.299, 0.587, 0.114])  # ITU-R 601 luma weights, as torchvision uses


def hflip(img):
    return img[..., ::-1, :].copy()


def vflip(img):
    return img[..., ::-1].copy()


def random_hflip(img, rng, p=0.5):
    return hflip(img) if rng.random() < p else img.copy()


def _pair(size):
    return (size, size) if isinstance(size, (int, np.integer)) else tuple(size)


def random_crop(img, size, rng, padding=0):
    h, w = _pair(size)
    padded = np.pad(img, ((0, 0), (padding, padding), (padding, padding)))
    H, W = padded.shape[1:]
    if h > H or w > W:
        raise ValueError(f"cannot crop {h}x{w} from a padded image of {H}x{W}")
    top = rng.integers(0, H - h + 1)  # the upper bound is exclusive: + 1 keeps the last offset
    left = rng.integers(0, W - w + 1)
    return padded[:, top:top + h, left:left + w].copy()


def _gray(img):
    return np.tensordot(GRAY, img, axes=1)  # (3, H, W) -> (H, W)


def color_jitter(img, rng, brightness=0.0, contrast=0.0, saturation=0.0):
    out = np.asarray(img, dtype=np.float64)
    if brightness:
        f = rng.uniform(max(0.0, 1 - brightness), 1 + brightness)
        out = np.clip(out * f, 0.0, 1.0)
    if contrast:
        f = rng.uniform(max(0.0, 1 - contrast), 1 + contrast)
        mean = _gray(out).mean()  # one grey level for the whole image
        out = np.clip(f * out + (1 - f) * mean, 0.0, 1.0)
    if saturation:
        f = rng.uniform(max(0.0, 1 - saturation), 1 + saturation)
        gray = _gray(out)[None]  # each pixel's own grey level
        out = np.clip(f * out + (1 - f) * gray, 0.0, 1.0)
    return out.astype(img.dtype, copy=True)


def augment(img, rng):
    img = random_crop(img, img.shape[1:], rng, padding=4)
    img = random_hflip(img, rng)
    return color_jitter(img, rng, brightness=0.2, contrast=0.2, saturation=0.2)


def augment_batch(X, seed):
    rng = np.random.default_rng(seed)
    return np.stack([augment(img, rng) for img in X])  # each image draws its own parameters

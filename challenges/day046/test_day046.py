"""Day 46 grader: a DCGAN on the 8x8 digits. Checks the architecture (convolutional, right
shapes and range), the loss history (finite, neither network winning outright), and the
samples: a fixed digits classifier (logistic regression trained here on all 1797 digits)
must recognise them confidently, across many classes (no mode collapse)."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from graders.seeding import weights_at_first_forward

# Small models: one thread is as fast as two, and far faster on a busy machine (no spinning;
# the classifier's fit takes 40x the CPU time on two OpenBLAS threads of a loaded machine).
torch.set_num_threads(1)
threadpool_limits(1)
# The first optimiser step imports torch._dynamo, which wraps torch.manual_seed; import it
# before the grade starts so that wrapping is not mistaken for the solution's doing.
import torch._dynamo  # noqa: E402, F401

SAMPLES = 1000
MIN_SCORE = 3.5        # "inception score" under the fixed classifier: real digits 7.4, noise 2.0
MIN_CONFIDENT = 0.35   # share of samples the classifier gives >= 0.8 probability (noise 0.21)
MIN_CLASSES = 8        # classes holding >= 2% of the confident samples
MAX_CLASS_SHARE = 0.3  # no digit may take more than this share of all samples
D_LOSS_RANGE = (0.3, 2.5)  # mean discriminator loss over the last 20% of steps (2 ln 2 = 1.39)


def _images():
    digits = load_digits()
    X = torch.tensor(digits.data / 8.0 - 1.0, dtype=torch.float32)  # [0, 16] -> [-1, 1]
    return X.view(-1, 1, 8, 8), digits


def test_architecture_is_convolutional(solution):
    torch.manual_seed(0)
    G, D = solution.Generator(), solution.Discriminator()
    kinds = {type(m) for m in G.modules()}
    assert kinds & {torch.nn.ConvTranspose2d, torch.nn.Conv2d}, (
        "the Generator has no (transposed) convolution: a DCGAN generator upsamples with "
        "ConvTranspose2d (or Upsample + Conv2d)")
    assert torch.nn.Conv2d in {type(m) for m in D.modules()}, (
        "the Discriminator has no Conv2d: a DCGAN discriminator is convolutional")
    G.eval()
    with torch.no_grad():
        x = G(torch.randn(5, G.latent_dim) * 10)  # large z: an unbounded output shows
    assert tuple(x.shape) == (5, 1, 8, 8), (
        f"Generator output has shape {tuple(x.shape)}, expected (5, 1, 8, 8)")
    assert x.min() >= -1 and x.max() <= 1, (
        f"Generator outputs lie in [{x.min():.2f}, {x.max():.2f}]; images are in [-1, 1] (tanh)")
    with torch.no_grad():
        logits = D.eval()(x)
    assert logits.numel() == 5, (
        f"Discriminator must give one logit per image, got shape {tuple(logits.shape)}")


def _initial_weights(solution, seed, scramble):
    """The generator weights train_gan builds (graders.seeding); [] if never called."""
    return weights_at_first_forward(
        [solution.Generator], lambda: solution.train_gan(_images()[0][:64].clone(), seed=seed),
        scramble)


def test_train_gan_is_seeded(solution):
    first = _initial_weights(solution, seed=0, scramble=11)
    assert first, "train_gan never ran the Generator"
    again = _initial_weights(solution, seed=0, scramble=22)
    assert len(first) == len(again) and all(
        torch.equal(a, b) for a, b in zip(first, again, strict=True)), (
        "train_gan(images, seed=0) built differently initialised generators in two runs (the "
        "global random state differed between them): call torch.manual_seed(seed) first")
    other = _initial_weights(solution, seed=1, scramble=11)
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True)), (
        "train_gan gave the same initial weights for seeds 0 and 1: use the seed argument")


@pytest.fixture(scope="module")
def trained(solution):
    images, _ = _images()
    G, D, history = solution.train_gan(images.clone(), seed=0)
    G.eval()
    return G, D, history


@pytest.fixture(scope="module")
def classifier():
    """The fixed digits classifier, fitted only once the loss history has been checked."""
    digits = load_digits()
    return LogisticRegression(C=1.0, max_iter=3000).fit(digits.data / 16.0, digits.target)


def test_loss_history_is_balanced(trained, record_metric):
    _, _, history = trained
    d, g = (np.asarray(history[k], dtype=float) for k in ("d_loss", "g_loss"))
    assert len(d) >= 200 and len(d) == len(g), (
        "history must hold one d_loss and one g_loss per step (>= 200 steps); "
        f"got {len(d)} and {len(g)}")
    assert np.isfinite(d).all() and np.isfinite(g).all(), "the loss history contains NaN or inf"
    assert d[0] > 1.0, (
        f"the first step's discriminator loss is {d[0]:.3f}; an untrained discriminator gives "
        "about 2 ln 2 = 1.39 for the real and the fake terms added (one term alone is about "
        "0.69): record their sum")
    tail = max(1, len(d) // 5)
    d_end, g_end = d[-tail:].mean(), g[-tail:].mean()
    record_metric("final_d_loss", d_end, target=f"in {D_LOSS_RANGE}")
    record_metric("final_g_loss", g_end)
    assert d_end >= D_LOSS_RANGE[0], (
        f"the discriminator's loss ends at {d_end:.3f}: it wins outright and the generator "
        "learns nothing (is the generator trained to make D say 'real', label 1?)")
    assert d_end <= D_LOSS_RANGE[1], (
        f"the discriminator's loss ends at {d_end:.3f} (> {D_LOSS_RANGE[1]}): it is not learning")


def test_samples_are_recognisable_and_diverse(trained, classifier, record_metric):
    G, _, _ = trained
    clf = classifier
    with torch.no_grad():
        x = G(torch.randn(SAMPLES, G.latent_dim, generator=torch.Generator().manual_seed(46)))
    assert x.min() >= -1 and x.max() <= 1, (
        f"the trained Generator's samples lie in [{x.min():.2f}, {x.max():.2f}], "
        f"{float(((x < -1) | (x > 1)).float().mean()):.0%} of the pixels outside; "
        "images are in [-1, 1] (tanh)")
    pixels = ((x.reshape(SAMPLES, 64).numpy().astype(float) + 1.0) / 2.0).clip(0, 1)
    p = clf.predict_proba(pixels)
    confident = p.max(1) >= 0.8
    marginal = p.mean(0)
    score = float(np.exp((p * (np.log(p + 1e-12) - np.log(marginal + 1e-12))).sum(1).mean()))
    counts = np.bincount(p.argmax(1)[confident], minlength=10)
    classes = int((counts >= 0.02 * max(1, confident.sum())).sum())
    top_share = float(np.bincount(p.argmax(1), minlength=10).max() / SAMPLES)
    record_metric("inception_score_digits", score, target=f">= {MIN_SCORE}")
    record_metric("confident_share", float(confident.mean()), target=f">= {MIN_CONFIDENT}")
    record_metric("classes_covered", classes, target=f">= {MIN_CLASSES}")
    record_metric("largest_class_share", top_share, target=f"<= {MAX_CLASS_SHARE}")
    assert top_share <= MAX_CLASS_SHARE, (
        f"{top_share:.0%} of the samples are one digit: mode collapse")
    assert score >= MIN_SCORE and confident.mean() >= MIN_CONFIDENT, (
        f"the fixed digits classifier does not recognise the samples: score {score:.2f} "
        f"(>= {MIN_SCORE} required; real digits 7.4, noise 2.0), confident on "
        f"{confident.mean():.0%} (>= {MIN_CONFIDENT:.0%} required)")
    assert classes >= MIN_CLASSES, (
        f"the recognisable samples cover only {classes} digits (>= {MIN_CLASSES} required)")

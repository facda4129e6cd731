"""Day 90 grader: SimCLR. NT-Xent against the grader's own float64 closed form (values and
gradients, with pointed diagnoses of the usual slips), the augmentations' contract (shape,
dtype, range, seeding through the generator only, per-image randomness), a short training
run that must lower the contrastive loss on fixed views, and a linear probe (scikit-learn
LogisticRegression) on the learnt features that must beat the same probe on the random
initialisation by a margin."""

import copy
import math

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from graders.data.simclr_task import load_data, make_model, probe_accuracy

torch.set_num_threads(1)
# the probes' LogisticRegression: two OpenBLAS threads spin on a loaded machine for nothing
threadpool_limits(1)
STEPS, BATCH, TEMPERATURE, LR, SEED = 60, 128, 0.5, 3e-3, 0
MARGIN = 0.05  # probe accuracy: trained minus random init, at least 5 points (correct: +9 to +18)
LOSS_DROP = 0.2  # NT-Xent on the grader's fixed views: at least this much lower after training
TOL = {torch.float32: (1e-5, 1e-5), torch.float64: (1e-10, 1e-12)}


# ---- the oracle: NT-Xent in float64, written out -----------------------------------------


def nt_xent_oracle(z1, z2, t, variant=""):
    """SimCLR's NT-Xent: 2N anchors, positive of i is i±N, the 2N-2 others are negatives,
    self-similarity excluded, mean over all 2N anchors. `variant` gives a usual slip."""
    z = np.concatenate([np.asarray(z1, np.float64), np.asarray(z2, np.float64)])
    n = len(z1)
    if variant != "unnormalised":
        z = z / np.linalg.norm(z, axis=1, keepdims=True)
    sim = z @ z.T * t if variant == "temperature multiplied" else z @ z.T / t
    if variant != "unmasked":
        np.fill_diagonal(sim, -np.inf)
    top = sim.max(axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.exp(sim - top).sum(axis=1))
    pos = (np.arange(2 * n) + n) % (2 * n)
    per_anchor = lse - sim[np.arange(2 * n), pos]
    return float(per_anchor[:n].mean() if variant == "one direction" else per_anchor.mean())


SLIPS = {
    "unmasked": "the self-similarity sim(i, i) is in the denominator: mask the diagonal "
                "(it is not a negative; only the 2N-2 other samples are)",
    "one direction": "only the anchors of z1 are averaged: both directions count, the mean "
                     "runs over all 2N anchors (z1's and z2's)",
    "unnormalised": "the projections are not L2-normalised: the similarity is the cosine",
    "temperature multiplied": "the similarities are multiplied by the temperature: divide",
}


def call_nt_xent(solution, z1, z2, t):
    out = solution.nt_xent(z1, z2, t)
    if not isinstance(out, torch.Tensor) or out.ndim != 0:
        pytest.fail(f"nt_xent must return a 0-dim tensor, got "
                    f"{type(out).__name__} {tuple(getattr(out, 'shape', ()))}", pytrace=False)
    return out


def projections(n, d, seed, dtype, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, d, generator=g, dtype=torch.float64) * scale).to(dtype)


CASES = {
    "N=4, D=8, t=0.5, float64": (4, 8, 0.5, torch.float64, 1.0),
    "N=16, D=32, t=0.1, float32": (16, 32, 0.1, torch.float32, 1.0),
    "N=7, D=3, t=1.0, float32, norms ~10": (7, 3, 1.0, torch.float32, 10.0),
    "N=32, D=16, t=0.5, float32": (32, 16, 0.5, torch.float32, 0.3),
}


@pytest.mark.parametrize("case", list(CASES))
def test_nt_xent_matches_the_formula(solution, case):
    n, d, t, dtype, scale = CASES[case]
    z1, z2 = projections(n, d, 1, dtype, scale), projections(n, d, 2, dtype, scale)
    a, b = z1.clone(), z2.clone()
    got = call_nt_xent(solution, a, b, t)
    assert torch.equal(a, z1) and torch.equal(b, z2), f"nt_xent({case}) modified its inputs"
    assert got.dtype == dtype, f"nt_xent({case}): a {got.dtype} result for {dtype} inputs"
    want = nt_xent_oracle(z1, z2, t)
    rtol, atol = TOL[dtype]
    value = float(got)
    if math.isclose(value, want, rel_tol=rtol, abs_tol=atol):
        return
    for variant, why in SLIPS.items():
        if math.isclose(value, nt_xent_oracle(z1, z2, t, variant), rel_tol=1e-4, abs_tol=1e-5):
            pytest.fail(f"nt_xent({case}) = {value:.6g}, the formula gives {want:.6g}: {why}",
                        pytrace=False)
    pytest.fail(f"nt_xent({case}) = {value:.6g}, the formula (float64) gives {want:.6g} "
                f"(rtol {rtol:g}, atol {atol:g})", pytrace=False)


def test_nt_xent_of_one_pair_is_zero(solution):
    # N = 1: 2N - 2 = 0 negatives, each anchor's only candidate is its positive
    z1, z2 = projections(1, 5, 3, torch.float64), projections(1, 5, 4, torch.float64)
    got = float(call_nt_xent(solution, z1, z2, 0.5))
    assert abs(got) <= 1e-12, (
        f"nt_xent of a single pair = {got:.6g}, expected 0: with N = 1 there are no negatives, "
        "so the softmax over the candidates (everything but the anchor itself) is 1"
        + (f" — {SLIPS['unmasked']}" if got > 1e-6 else ""))


def test_nt_xent_gradient_matches_the_formula(solution):
    z1, z2 = projections(6, 5, 5, torch.float64), projections(6, 5, 6, torch.float64)
    a, b = z1.clone().requires_grad_(), z2.clone().requires_grad_()
    call_nt_xent(solution, a, b, 0.3).backward()
    assert a.grad is not None and b.grad is not None, (
        "no gradient reached z1/z2: the loss must be built from them with torch operations")
    x, y = z1.clone().requires_grad_(), z2.clone().requires_grad_()
    z = torch.cat([x, y])
    z = z / z.norm(dim=1, keepdim=True)
    sim = (z @ z.T / 0.3).masked_fill(torch.eye(12, dtype=torch.bool), -math.inf)
    pos = (torch.arange(12) + 6) % 12
    (torch.logsumexp(sim, dim=1) - sim[torch.arange(12), pos]).mean().backward()
    err = max((a.grad - x.grad).abs().max().item(), (b.grad - y.grad).abs().max().item())
    assert err <= 1e-9, f"d nt_xent / dz differs from the formula's gradient by {err:.3g}"


def test_nt_xent_is_stable_at_low_temperature(solution):
    # t = 0.01: sim / t reaches 100 and exp(100) overflows float32 (max ~ e^88.7)
    z1, z2 = projections(8, 16, 7, torch.float32), projections(8, 16, 8, torch.float32)
    z2 = z2 * 0.05 + z1  # positives close: large similarities
    got = float(call_nt_xent(solution, z1, z2, 0.01))
    want = nt_xent_oracle(z1, z2, 0.01)
    assert math.isfinite(got), (
        f"nt_xent at temperature 0.01 is {got}: exp(sim / t) overflows float32 — compute "
        "log-softmax with the max subtracted (torch.logsumexp or F.cross_entropy)")
    assert math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-4), (
        f"nt_xent at temperature 0.01 = {got:.6g}, the formula gives {want:.6g}")


@pytest.mark.parametrize("case", ["shapes (4, 8) and (5, 8)", "shapes (4, 8) and (4, 6)",
                                  "1-D inputs (8,) and (8,)", "temperature 0",
                                  "temperature -0.5"])
def test_nt_xent_rejects_bad_input(solution, case):
    z1 = projections(4, 8, 1, torch.float32)
    if case.startswith("1-D"):
        z1 = z1[0]
    z2, t = {"1-D inputs (8,) and (8,)": (projections(4, 8, 2, torch.float32)[0], 0.5),
             "shapes (4, 8) and (5, 8)": (projections(5, 8, 2, torch.float32), 0.5),
             "shapes (4, 8) and (4, 6)": (projections(4, 6, 2, torch.float32), 0.5),
             "temperature 0": (projections(4, 8, 2, torch.float32), 0.0),
             "temperature -0.5": (projections(4, 8, 2, torch.float32), -0.5)}[case]
    with pytest.raises(ValueError):
        solution.nt_xent(z1, z2, t)
        pytest.fail(f"nt_xent with {case} must raise ValueError", pytrace=False)


# ---- augmentations ----------------------------------------------------------------------


def images(n, size, seed=0):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


def gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("size", [16, 32])
def test_augment_keeps_shape_dtype_and_range(solution, size):
    x = images(10, size)
    given = x.clone()
    out = solution.augment(given, gen(0))
    assert torch.equal(given, x), "augment modified the images it was given: work on a copy"
    assert isinstance(out, torch.Tensor) and out.shape == x.shape and out.dtype == torch.float32, (
        f"augment of (10, 3, {size}, {size}) float32 returned "
        f"{getattr(out, 'dtype', type(out).__name__)} {tuple(getattr(out, 'shape', ()))}")
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1, (
        f"augmented values must stay in [0, 1], got [{out.min():.3g}, {out.max():.3g}]")
    assert not torch.equal(out, x), "augment returned the images unchanged"


def test_augment_is_seeded_by_its_generator_only(solution):
    x = images(12, 16)
    torch.manual_seed(1)
    a = solution.augment(x, gen(42))
    torch.manual_seed(2)  # another global RNG state must not matter
    state = torch.get_rng_state()
    b = solution.augment(x, gen(42))
    assert torch.equal(torch.get_rng_state(), state), (
        "augment drew from torch's global RNG: take every random number from `generator` "
        "(torch.rand(..., generator=generator))")
    assert torch.equal(a, b), (
        "augment with two generators of the same seed gave different images: every random "
        "number must come from `generator`, nothing from the global RNG")
    assert not torch.equal(a, solution.augment(x, gen(43))), (
        "augment with generators of different seeds gave the same images")


def test_augment_draws_per_image_and_per_call(solution):
    x = images(1, 16).expand(16, 3, 16, 16).clone()  # one image, 16 times
    g = gen(7)
    v1, v2 = solution.augment(x, g), solution.augment(x, g)
    distinct = len({tuple(v.flatten().tolist()) for v in v1})
    assert distinct == 16, (
        f"16 copies of one image gave only {distinct} distinct views: draw the random "
        "parameters per image, not once for the batch")
    assert not torch.equal(v1, v2), (
        "two calls with the same generator (advancing) gave the same views: the two views "
        "of a SimCLR pair must differ")


def step_views(solution, calls=8, n=32, size=16):
    """Per call: each view's orientation (+1 bright left, -1 bright right, 0 flat) and the
    width of its bright part in pixels (read after undoing a flip), for n copies of an image
    that is bright on its left half and dark on its right, grey in every channel."""
    x = torch.full((n, 3, size, size), 0.2)
    x[..., : size // 2] = 0.8
    g, out = gen(21), []
    for _ in range(calls):
        cols = solution.augment(x.clone(), g).mean(dim=(1, 2))  # (n, size) column profiles
        sign = torch.sign(cols[:, : size // 2].mean(1) - cols[:, size // 2:].mean(1))
        cols = torch.where(sign[:, None] < 0, cols.flip(1), cols)
        low, high = cols.min(1, keepdim=True).values, cols.max(1, keepdim=True).values
        width = ((cols - low) / (high - low).clamp_min(1e-6)).sum(1)
        out.append((sign.tolist(), width[sign != 0]))
    return out


def batch_wide_crop_or_flip(solution) -> str:
    """What augment draws once per call ('' if nothing): a crop or flip drawn once per call
    varies between calls but not within one."""
    views = step_views(solution)
    signs = [{s for s in call if s} for call, _ in views]
    if all(len(c) == 1 for c in signs) and len(set().union(*signs)) == 2:
        return ("augment flips all images of a call the same way (the flip changes between "
                "calls only): draw the flip per image")
    spread = [float(w.max() - w.min()) if len(w) else 0.0 for _, w in views]
    if max(spread) < 0.5 and len({round(float(w.mean()), 1) for _, w in views if len(w)}) > 1:
        return ("augment crops all images of a call the same way (the crop changes between "
                "calls only): draw the crop per image")
    return ""


def test_augment_crops_and_flips_per_image(solution):
    why = batch_wide_crop_or_flip(solution)
    assert not why, why


def test_augment_reorders_colours(solution):
    # a flat image of three distinct channel values: the order of the channel means in a
    # view is the channel order the colour distortion produced (contrast and brightness
    # jitter keep the order)
    x = torch.tensor([0.2, 0.5, 0.8]).view(1, 3, 1, 1).expand(32, 3, 16, 16).clone()
    views = solution.augment(x, gen(5))
    orders = {tuple(torch.argsort(v.mean(dim=(1, 2)), stable=True).tolist()) for v in views}
    assert len(orders) >= 4, (
        f"32 views of one flat colour show only {len(orders)} channel order(s): the colour "
        "distortion must change which channel is brightest (a random channel order per "
        "image); brightness, contrast or a little hue are not enough to make colour useless")


def test_augment_jitters_brightness_and_contrast(solution):
    # a channel order alone keeps each image's set of intensities: a shortcut that lets
    # SimCLR match views without looking at shapes. Brightness and contrast must move too.
    x = torch.tensor([0.2, 0.5, 0.8]).view(1, 3, 1, 1).expand(32, 3, 16, 16).clone()
    means = solution.augment(x, gen(6)).mean(dim=(2, 3))  # (32, 3) channel means per view
    brightness = means.mean(dim=1)
    contrast = means.max(dim=1).values - means.min(dim=1).values
    b_span = float(brightness.max() - brightness.min())
    c_span = float(contrast.max() - contrast.min())
    assert b_span >= 0.1, (
        f"32 views of one flat colour have mean intensities spanning only {b_span:.3f} (at "
        "least 0.1 required): jitter the brightness per image")
    assert c_span >= 0.1, (
        f"32 views of one flat colour have channel ranges (brightest − darkest channel) "
        f"spanning only {c_span:.3f} (at least 0.1 required): jitter the contrast per image")


# ---- training: the loss goes down, the features get better --------------------------------


def short_run(solution, global_seed, seed, modes, batches, temperatures):
    """train_simclr for 2 steps on make_model(5) handed over in eval mode: (losses, the
    weights afterwards, the largest change of any weight)."""
    data = load_data()
    encoder, head = make_model(5)
    named = {**dict(encoder.named_parameters()),
             **{f"head.{k}": v for k, v in head.named_parameters()}}
    initial = {k: v.detach().clone() for k, v in named.items()}
    encoder.eval()  # handed over in eval mode: training must switch both to train mode
    head.eval()
    for m in (encoder, head):
        m.register_forward_pre_hook(lambda mod, args: modes.append(mod.training))
    encoder.register_forward_pre_hook(lambda mod, args: batches.append(len(args[0])))
    original = solution.nt_xent

    def watched(z1, z2, temperature, *args, **kwargs):
        temperatures.append(temperature)
        return original(z1, z2, temperature, *args, **kwargs)

    solution.nt_xent = watched  # train_simclr calls it by its module-level name
    torch.manual_seed(global_seed)  # must not matter: all randomness comes from `seed`
    try:
        losses = solution.train_simclr(encoder, head, data.x_train[:64].clone(), steps=2,
                                       batch_size=SHORT["batch_size"],
                                       temperature=SHORT["temperature"], lr=SHORT["lr"],
                                       seed=seed)
    finally:
        solution.nt_xent = original
    still = [k for k, v in named.items() if torch.equal(v.detach(), initial[k])]
    assert not still, (f"after 2 steps these parameters are unchanged: {', '.join(still)} — "
                       "Adam must step over the parameters of both encoder and head")
    moved = max((v.detach() - initial[k]).abs().max().item() for k, v in named.items())
    state = {**encoder.state_dict(), **{f"head.{k}": v for k, v in head.state_dict().items()}}
    return losses, state, moved


# lr, temperature and batch size unlike the run's (and lr unlike Adam's default 1e-3), so
# that a value written into train_simclr instead of the argument shows
SHORT = {"batch_size": 16, "temperature": 0.3, "lr": 2e-3}


def test_training_is_deterministic(solution):
    modes, batches, temperatures = [], [], []
    l1, s1, moved = short_run(solution, 1, 11, modes, batches, temperatures)
    l2, s2, _ = short_run(solution, 2, 11, modes, batches, temperatures)
    assert modes and all(modes), (
        "encoder or head ran in eval mode during training: call .train() on both (BatchNorm "
        "must use and update the batch statistics)")
    assert isinstance(l1, list) and len(l1) == 2 and all(isinstance(v, float) for v in l1), (
        f"train_simclr(steps=2) must return a list of 2 Python floats, got {l1!r}")
    assert l1 == l2 and all(torch.equal(s1[k], s2[k]) for k in s1), (
        "two runs of train_simclr with the same seed differ (losses or weights): draw the "
        "batches and the augmentations from torch.Generator().manual_seed(seed) only")
    l3, _, _ = short_run(solution, 1, 12, [], [], [])
    assert l3 != l1, (
        "train_simclr with seed 12 gave the same losses as with seed 11: seed the generator "
        "with the `seed` argument")
    assert set(batches) == {SHORT["batch_size"]}, (
        f"the encoder saw batches of {sorted(set(batches))} images during "
        f"train_simclr(batch_size={SHORT['batch_size']}): use the batch_size argument")
    assert set(temperatures) <= {SHORT["temperature"]}, (
        f"train_simclr called nt_xent with temperature {sorted(set(temperatures))}, not the "
        f"argument {SHORT['temperature']}")
    # two Adam steps move the weights whose gradient keeps its sign by about 2·lr each
    lr = SHORT["lr"]
    assert 1.5 * lr <= moved <= 2.5 * lr, (
        f"after 2 steps of Adam with lr={lr:g} the largest weight change is {moved:.3g}, "
        f"expected about {2 * lr:g} (2·lr): use torch.optim.Adam with lr=lr (its default is "
        "1e-3)")


def fixed_views(x, seed):
    """The grader's own views for scoring: shifts of up to 2 pixels, flips, channel orders."""
    rng = np.random.default_rng(seed)
    out = x.clone()
    for i in range(len(out)):
        dy, dx = rng.integers(-2, 3, size=2)
        img = torch.roll(out[i], shifts=(int(dy), int(dx)), dims=(1, 2))
        if rng.random() < 0.5:
            img = img.flip(2)
        out[i] = img[torch.from_numpy(rng.permutation(3))]
    return out


def scoring_loss(encoder, head, x):
    encoder.eval()
    head.eval()
    with torch.no_grad():
        z1 = head(encoder(fixed_views(x, 901)))
        z2 = head(encoder(fixed_views(x, 902)))
    return nt_xent_oracle(z1.numpy(), z2.numpy(), TEMPERATURE)


def unsound_parts(solution) -> str:
    """Why a training run would be meaningless ('' when the parts pass a quick look): the
    run and the probes take most of the grading time, so a wrong loss or augmentation fails
    fast instead (its own check says what is wrong)."""
    problems = []
    try:
        z1, z2 = projections(4, 8, 1, torch.float64), projections(4, 8, 2, torch.float64)
        if not math.isclose(float(solution.nt_xent(z1, z2, 0.5)), nt_xent_oracle(z1, z2, 0.5),
                            rel_tol=1e-8):
            problems.append("nt_xent does not match the formula")
    except Exception as e:  # noqa: BLE001 (any error: the loss is not usable)
        problems.append(f"nt_xent raised {type(e).__name__}")
    try:
        x = images(1, 16).expand(16, 3, 16, 16).clone()
        given = x.clone()
        torch.manual_seed(3)
        a = solution.augment(given, gen(9))
        torch.manual_seed(4)
        b = solution.augment(given, gen(9))
        if not (torch.equal(a, b) and torch.equal(given, x)
                and len({tuple(v.flatten().tolist()) for v in a}) == 16):
            problems.append("augment breaks its seeding, per-image or no-modification rules")
        flat = torch.tensor([0.2, 0.5, 0.8]).view(1, 3, 1, 1).expand(32, 3, 16, 16).clone()
        means = solution.augment(flat, gen(6)).mean(dim=(2, 3))
        spans = [float(v.max() - v.min()) for v in (
            means.mean(dim=1), means.max(dim=1).values - means.min(dim=1).values)]
        orders = {tuple(torch.argsort(m, stable=True).tolist()) for m in means}
        if len(orders) < 4 or min(spans) < 0.1:
            problems.append("augment's colour distortion is too weak")
        if batch_wide_crop_or_flip(solution):
            problems.append("augment draws its crop or flip once per call")
    except Exception as e:  # noqa: BLE001
        problems.append(f"augment raised {type(e).__name__}")
    return "; ".join(problems)


@pytest.fixture(scope="module")
def trained(solution):
    why = unsound_parts(solution)
    if why:
        return why
    data = load_data()
    encoder, head = make_model(SEED)
    untrained = copy.deepcopy(encoder)
    before = scoring_loss(copy.deepcopy(encoder), copy.deepcopy(head), data.x_train[:256])
    x = data.x_train.clone()
    losses = solution.train_simclr(encoder, head, x, steps=STEPS, batch_size=BATCH,
                                   temperature=TEMPERATURE, lr=LR, seed=SEED)
    assert torch.equal(x, data.x_train), "train_simclr modified the images it was given"
    return data, untrained, encoder, head, losses, before


def run_of(trained):
    if isinstance(trained, str):
        pytest.fail(f"not run: {trained} (see the checks above); training on it would say "
                    "nothing", pytrace=False)
    return trained


def test_training_lowers_the_loss(trained, record_metric):
    data, _, encoder, head, losses, before = run_of(trained)
    assert isinstance(losses, list) and len(losses) == STEPS, (
        f"train_simclr(steps={STEPS}) must return {STEPS} losses, one per step, got "
        f"{len(losses) if isinstance(losses, list) else type(losses).__name__}")
    assert all(isinstance(v, float) and math.isfinite(v) for v in losses), (
        "the losses must be finite Python floats (loss.item())")
    after = scoring_loss(encoder, head, data.x_train[:256])
    record_metric("nt_xent_before", before)
    record_metric("nt_xent_after", after, target=f"<= {before - LOSS_DROP:.3f}",
                  verdict="PASS" if after <= before - LOSS_DROP else "FAIL")
    assert after <= before - LOSS_DROP, (
        f"NT-Xent on the grader's fixed views (256 images, t = {TEMPERATURE}) went from "
        f"{before:.3f} to {after:.3f}; it must drop by at least {LOSS_DROP}. Are both views "
        "augmented, the optimiser stepping over the encoder and head parameters?")


def test_linear_probe_beats_random_init(trained, record_metric):
    data, untrained, encoder, _, _, _ = run_of(trained)
    random_acc = probe_accuracy(untrained, data)
    acc = probe_accuracy(encoder, data)
    record_metric("probe_random_init", random_acc * 100, unit="%")
    record_metric("probe_simclr", acc * 100, unit="%",
                  target=f">= {(random_acc + MARGIN) * 100:.1f}",
                  verdict="PASS" if acc >= random_acc + MARGIN else "FAIL")
    assert acc >= random_acc + MARGIN, (
        f"linear probe on the SimCLR features: {acc:.1%}, on the random initialisation: "
        f"{random_acc:.1%}; the learnt features must beat it by {MARGIN * 100:.0f} points")

"""Day 69 grader: bfloat16 rounding against torch's own cast (bit for bit), autocast
inference and the dtypes autocast picks against torch run by the grader, and the learner's
loss scaler against torch.amp.GradScaler on the same training runs (injected and real fp16
overflows; CUDA fp16 only where a GPU is present)."""

import numpy as np
import pytest
import torch
import torch._dynamo  # noqa: F401  (torch.optim imports it; imported before the grade)
from torch import nn

from graders import forbid
from graders.requires import hardware
from hardware.detect import available

torch.set_num_threads(1)
PARITY_RTOL = 2e-2  # max |autocast − fp32| over max |fp32|
PARAM_ATOL = 1e-6
SCALERS = ["torch.amp.GradScaler", "torch.cuda.amp.GradScaler", "torch.cpu.amp.GradScaler",
           "torch.amp.grad_scaler"]
# a warning records itself in this module's registry: it exists from the start, so that is
# not taken for a change
__warningregistry__: dict = {}


def bits_equal(a, b):
    return (a.view(np.uint32) == b.view(np.uint32)) | (np.isnan(a) & np.isnan(b))


def probe_values():
    rng = np.random.default_rng(69)
    wide = rng.standard_normal(3985) * 10.0 ** rng.integers(-40, 38, 3985)
    ties = ((np.arange(1, 600, dtype=np.uint32) * 977) << 16 | 0x8000).view(np.float32)
    special = [np.inf, -np.inf, np.nan, 3.4e38, -3.39e38, 0.0, -0.0, 1e-45, 1e-39, 1.0,
               1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8, 65504.0, 1e-8]
    # NaNs whose payload lies only in the low 16 bits: their upper half alone reads ±inf
    low_nans = np.array([0x7F800001, 0xFF800001], np.uint32).view(np.float32)
    with np.errstate(over="ignore"):
        flat = np.concatenate([wide.astype(np.float32), ties, np.array(special, np.float32),
                               low_nans])
    return flat.reshape(46, 100)


def test_bf16_round_matches_torch_bit_for_bit(solution, solution_dir):
    forbid.assert_not_used(solution_dir, ["ml_dtypes"], why="round with the bits yourself")
    x = probe_values()
    saved = x.copy()
    with forbid.calls("torch.from_numpy", "torch.tensor", "torch.as_tensor", "torch.asarray"):
        got = solution.bf16_round(x)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == x.shape, (
        f"bf16_round returned {type(got).__name__} {getattr(got, 'dtype', '')} of shape "
        f"{np.shape(got)}; expected a float32 NumPy array of shape {x.shape}")
    assert bits_equal(x, saved).all(), "bf16_round must not modify its input"
    want = torch.from_numpy(x).to(torch.bfloat16).float().numpy()
    ok = bits_equal(got, want)
    if ok.all():
        return
    bad = ~ok
    ties = (x.view(np.uint32) & 0xFFFF) == 0x8000
    truncated = (x.view(np.uint32) & 0xFFFF0000).view(np.float32)
    if np.isnan(x[bad]).all():
        why = ("NaN must stay NaN (any NaN: one whose payload lies only in the low 16 bits "
               "keeps an all-zero upper mantissa and, rounded like a number, reads ±inf)")
    elif bits_equal(got[bad], truncated[bad]).all():
        why = ("the low 16 bits were cut off (truncation, round toward zero); bfloat16 "
               "conversion rounds to the nearest value")
    elif bad[ties].any() and ok[~ties].all():
        why = ("values exactly halfway between two bfloat16 numbers must round to the one "
               "with an even last mantissa bit (ties to even)")
    elif np.isnan(want[bad]).any() or np.isinf(want[bad]).any():
        why = ("NaN must stay NaN and ±inf stay ±inf (values beyond the largest bfloat16 "
               "round to ±inf)")
    else:
        why = "round to nearest, ties to even, on the upper 16 bits of the float32 pattern"
    i = int(np.flatnonzero(bad.ravel())[0])
    pytest.fail(f"bf16_round differs from torch's float32→bfloat16 cast on {int(bad.sum())} of "
                f"{x.size} values (first: {x.ravel()[i]:.9g} gave {got.ravel()[i]:.9g}, torch "
                f"{want.ravel()[i]:.9g}): {why}", pytrace=False)


class Prototypes(nn.Module):
    """Logits = minus the distance to one learnt prototype per class (torch.cdist)."""

    def __init__(self, dim, classes):
        super().__init__()
        self.centres = nn.Parameter(torch.randn(classes, dim))

    def forward(self, h):
        return -torch.cdist(h, self.centres)


def make_net():
    torch.manual_seed(69)
    return nn.Sequential(
        nn.BatchNorm2d(1), nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(8 * 4 * 4, 32), nn.LayerNorm(32), nn.GELU(),
        Prototypes(32, 10), nn.Softmax(dim=1)).eval()


def net_input():
    return torch.randn(16, 1, 8, 8, generator=torch.Generator().manual_seed(70))


def snapshot(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def assert_unchanged(model, before):
    after = model.state_dict()
    assert all(v.dtype == before[k].dtype and torch.equal(v, before[k])
               for k, v in after.items()) and not any(m.training for m in model.modules()), (
        "autocast_infer changed the model (its weights, their dtype, or eval mode): autocast "
        "casts inside each op and keeps the float32 weights; do not call model.bfloat16()")


def test_autocast_infer_equals_torch_autocast(solution):
    model, x = make_net(), net_input()
    before = snapshot(model)
    try:
        got = solution.autocast_infer(model, x)
    except Exception:
        assert_unchanged(model, before)  # the cause, when a cast model then fails in cdist
        raise
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32 and got.shape == (16, 10), (
        f"autocast_infer returned {type(got).__name__} {getattr(got, 'dtype', '')} of shape "
        f"{tuple(getattr(got, 'shape', ()))}; expected a float32 tensor of shape (16, 10) "
        "(convert the autocast output back with .float())")
    assert not got.requires_grad, (
        "autocast_infer's output requires grad: run inference under torch.no_grad() "
        "(or torch.inference_mode())")
    assert_unchanged(model, before)
    with torch.no_grad():
        fp32 = model(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            want = model(x).float()
    if torch.equal(got, fp32):
        pytest.fail("autocast_infer returned the float32 result: run the model under "
                    "torch.autocast('cpu', dtype=torch.bfloat16)", pytrace=False)
    err = float((got - fp32).abs().max() / fp32.abs().max())
    assert err <= PARITY_RTOL, (
        f"autocast_infer is {err:.3g} (max abs error over max |fp32|) from float32, "
        f"more than {PARITY_RTOL:g}")
    if not torch.equal(got, want):
        d = float((got - want).abs().max())
        pytest.fail(f"autocast_infer differs from torch.autocast('cpu', dtype=torch.bfloat16) "
                    f"run by the grader (max abs difference {d:.3g}; expected identical): cast "
                    "nothing by hand, let autocast choose each op's precision", pytrace=False)


def torch_dtypes(model, x):
    seen = {}
    hooks = [m.register_forward_hook(lambda _m, _i, out, n=n: seen.__setitem__(n, out.dtype))
             for n, m in model.named_modules() if not list(m.children())]
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        model(x)
    for h in hooks:
        h.remove()
    return seen


def test_autocast_dtypes_match_what_torch_does(solution):
    model, x = make_net(), net_input()
    want = torch_dtypes(model, x)
    got = solution.autocast_dtypes(model, x)
    assert isinstance(got, dict) and set(got) == set(want), (
        f"autocast_dtypes returned keys {sorted(got) if isinstance(got, dict) else got!r}; "
        f"expected every leaf module's name from model.named_modules(): {sorted(want)}")
    wrong = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
    assert not wrong, "autocast_dtypes disagrees with torch's autocast: " + "; ".join(
        f"module {k!r} ({type(dict(model.named_modules())[k]).__name__}) gave {g}, torch "
        f"gives {w}" for k, (g, w) in wrong.items()) + " — run the forward pass under autocast"
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules()), (
        "autocast_dtypes left hooks on the model: remove them")
    assert [m.training for m in model.modules()] == [False] * len(list(model.modules())), (
        "autocast_dtypes changed the model's eval mode")


class Fails(nn.Module):
    def forward(self, h):
        raise RuntimeError("the grader's module fails on purpose")


def test_autocast_dtypes_leaves_of_a_nested_net_and_hooks_removed_on_error(solution):
    torch.manual_seed(0)
    nested = nn.Sequential(nn.Sequential(nn.Linear(8, 8), nn.ReLU()), nn.Linear(8, 4)).eval()
    x = torch.randn(4, 8)
    want = torch_dtypes(nested, x)  # "0.0", "0.1", "1": "0" has children, it is no leaf
    got = solution.autocast_dtypes(nested, x)
    assert isinstance(got, dict) and got == want, (
        f"autocast_dtypes on a nested net returned {got!r}; expected {want!r}: only leaf "
        "modules (modules without children), keyed by their name in model.named_modules()")
    failing = nn.Sequential(nn.Linear(8, 8), Fails()).eval()
    try:
        solution.autocast_dtypes(failing, x)
    except Exception:  # noqa: BLE001  (the forward fails on purpose: only the hooks matter)
        pass
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in failing.modules()), (
        "autocast_dtypes left its hooks on the model when the forward pass raised: remove "
        "them in a finally block")


# --- loss scaling: the learner's LossScaler next to torch.amp.GradScaler -----------------

def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.GELU(),
                         nn.Linear(64, 4))


def task(device="cpu"):
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(128, 16, generator=g), torch.randint(0, 4, (128,), generator=g)
    return x.to(device), y.to(device)


def train(scaler, *, steps, dtype, device="cpu", poison=None, clip=None):
    """The GradScaler recipe; `poison[i]` multiplies step i's loss by inf or nan."""
    model = mlp().to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x, y = task(device)
    trace = []
    for i in range(steps):
        opt.zero_grad()
        with torch.autocast(device, dtype=dtype):
            loss = nn.functional.cross_entropy(model(x), y)
        if poison and i in poison:
            loss = loss * poison[i]
        scaler.scale(loss).backward()
        if clip is not None:
            scaler.unscale_(opt)
            grads = [p.grad.detach().clone() for p in model.parameters()]
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        else:
            grads = None
        before = [p.detach().clone() for p in model.parameters()]
        taken = scaler.step(opt)
        scaler.update()
        stepped = any(not torch.equal(b, p) for b, p in zip(before, model.parameters(),
                                                            strict=True))
        trace.append((float(scaler.get_scale()), stepped,
                      [p.detach().cpu().clone() for p in model.parameters()], grads, taken))
    return trace


def grad_gap(a, b):
    """Max abs difference relative to max(1, max |b|); inf where inf/NaN positions differ."""
    fa, fb = torch.isfinite(a), torch.isfinite(b)
    if not torch.equal(fa, fb):
        return float("inf")
    if not fb.any():
        return 0.0
    return float((a[fb] - b[fb]).abs().max()) / max(1.0, float(b[fb].abs().max()))


def compare(name, mine, theirs, rule):
    for i, ((s, st, ps, gs, taken), (ts, tst, tps, tgs, _)) in enumerate(zip(mine, theirs,
                                                                          strict=True)):
        if gs is not None:
            err = max(grad_gap(a, b) for a, b in zip(gs, tgs, strict=True))
            assert err <= 1e-6, (
                f"{name}, step {i}: after unscale_ the gradients differ from GradScaler's "
                f"(relative difference {err:.3g}): unscale_ divides every .grad by the scale, "
                "in place")
        assert st == tst, (
            f"{name}, step {i}: the optimiser step was {'taken' if st else 'skipped'}, "
            f"GradScaler {'took' if tst else 'skipped'} it — a step whose gradients hold "
            "inf or NaN must be skipped (no optimizer.step(): momentum must not move the "
            "weights either), every other step taken")
        assert isinstance(taken, bool) and taken == st, (
            f"{name}, step {i}: step() returned {taken!r} for a step that was "
            f"{'taken' if st else 'skipped'}: it returns True when it called optimizer.step(), "
            "else False")
        assert s == ts, (
            f"{name}: the scale after step {i} is {s:g}, GradScaler's is {ts:g} — {rule}")
        err = max(float((a - b).abs().max()) for a, b in zip(ps, tps, strict=True))
        assert err <= PARAM_ATOL, (
            f"{name}, step {i}: the weights differ from GradScaler's run by {err:.3g} "
            f"(> {PARAM_ATOL:g}): the optimiser must see the gradients divided by the scale "
            "exactly once")


RULE = ("after an overflow the scale is multiplied by backoff_factor and the count of clean "
        "steps restarts; after growth_interval clean steps in a row it is multiplied by "
        "growth_factor and the count restarts")


def test_default_scale_and_scaled_loss(solution, solution_dir):
    forbid.assert_not_used(solution_dir, SCALERS, why="write the loss scaler yourself")
    sc = solution.LossScaler()
    assert isinstance(sc.get_scale(), float) and sc.get_scale() == 2.0 ** 16, (
        f"LossScaler().get_scale() is {sc.get_scale()!r}, expected the float 65536.0 (2**16, "
        "GradScaler's default)")
    loss = torch.tensor(1.5, requires_grad=True)
    out = sc.scale(loss)
    assert isinstance(out, torch.Tensor) and out.requires_grad and out.item() == 1.5 * 2 ** 16, (
        "scale(loss) must return loss × scale as a tensor still attached to the graph")


def test_unscale_once_per_step(solution):
    p, idle = nn.Parameter(torch.ones(3)), nn.Parameter(torch.zeros(2))
    q = nn.Parameter(torch.ones(2))
    # two param groups; idle gets no gradient: its .grad stays None
    opt = torch.optim.SGD([{"params": [p, idle]}, {"params": [q], "lr": 0.1}], lr=0.5)
    sc = solution.LossScaler(init_scale=8.0)
    c, d = torch.tensor([1.0, -2.0, 4.0]), torch.tensor([3.0, -0.5])
    for step in range(2):
        opt.zero_grad()
        sc.scale((p * c).sum() + (q * d).sum()).backward()
        grad = p.grad
        sc.unscale_(opt)
        sc.unscale_(opt)
        assert torch.equal(p.grad, c), (
            f"step {step}: after scale(loss).backward() and unscale_ called twice, the "
            f"gradient is {p.grad.tolist()}, expected {c.tolist()}: unscale_ divides by the "
            "scale once per step (the second call, and the one inside step, do nothing until "
            "update())")
        assert torch.equal(q.grad, d), (
            f"step {step}: the gradient of a parameter in the optimiser's second param group "
            f"is {q.grad.tolist()} after unscale_, expected {d.tolist()}: unscale every "
            "parameter of every group in optimizer.param_groups")
        assert p.grad is grad, (
            "unscale_ replaced .grad by a new tensor: divide the gradients in place "
            "(p.grad.div_(scale) or mul_), as GradScaler does")
        assert sc.step(opt) is True and idle.grad is None, (
            "step() after a clean unscale_ must take the step and return True (parameters "
            "without a gradient are left alone)")
        sc.update()


def test_overflow_steps_skipped_like_gradscaler(solution):
    kw = dict(init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=3)
    poison = {2: float("inf"), 6: float("nan"), 7: float("inf"), 11: float("nan")}
    mine = train(solution.LossScaler(**kw), steps=14, dtype=torch.bfloat16, poison=poison)
    theirs = train(torch.amp.GradScaler("cpu", **kw), steps=14, dtype=torch.bfloat16,
                   poison=poison)
    compare("bf16 run with inf/NaN losses at steps 2, 6, 7 and 11 (growth_interval 3)",
            mine, theirs, RULE)


def test_other_factors_like_gradscaler(solution):
    kw = dict(init_scale=1024.0, growth_factor=4.0, backoff_factor=0.25, growth_interval=2)
    poison = {3: float("inf"), 4: float("nan")}
    mine = train(solution.LossScaler(**kw), steps=8, dtype=torch.bfloat16, poison=poison)
    theirs = train(torch.amp.GradScaler("cpu", **kw), steps=8, dtype=torch.bfloat16,
                   poison=poison)
    compare("bf16 run, growth_factor 4, backoff_factor 0.25, growth_interval 2",
            mine, theirs, "use the growth_factor and backoff_factor given; " + RULE)


def test_real_fp16_overflow_like_gradscaler(solution):
    kw = dict(init_scale=2.0 ** 24, growth_interval=3)
    mine = train(solution.LossScaler(**kw), steps=12, dtype=torch.float16)
    theirs = train(torch.amp.GradScaler("cpu", **kw), steps=12, dtype=torch.float16)
    assert any(not t[1] for t in theirs), "grader self-check: the fp16 run should overflow"
    compare("float16 CPU autocast from scale 2**24 (fp16 gradients overflow)", mine, theirs,
            RULE)


def test_unscale_before_clipping_like_gradscaler(solution):
    kw = dict(init_scale=2.0 ** 16, growth_interval=2)
    poison = {1: float("inf")}
    mine = train(solution.LossScaler(**kw), steps=5, dtype=torch.bfloat16, poison=poison,
                 clip=0.5)
    theirs = train(torch.amp.GradScaler("cpu", **kw), steps=5, dtype=torch.bfloat16,
                   poison=poison, clip=0.5)
    compare("unscale_, clip_grad_norm_(0.5), step", mine, theirs, RULE)


def test_cuda_fp16_like_gradscaler(solution):
    ok, why = available("nvidia-gpu")
    hardware("nvidia-gpu", ok and torch.cuda.is_available(), why or "torch sees no CUDA device")
    kw = dict(init_scale=2.0 ** 24, growth_interval=3)
    mine = train(solution.LossScaler(**kw), steps=12, dtype=torch.float16, device="cuda")
    theirs = train(torch.amp.GradScaler("cuda", **kw), steps=12, dtype=torch.float16,
                   device="cuda")
    compare("float16 CUDA autocast from scale 2**24", mine, theirs, RULE)

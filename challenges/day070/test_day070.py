"""Day 70 grader: layer freezing (exactly the named modules, by module path) and bf16
autocast fine-tuning on the digits: frozen parameters and BatchNorm statistics bit-identical
and absent from the optimiser, the rest trained, every training forward under autocast,
convergence thresholds, and seeded runs bit for bit (CUDA float16 only where a GPU is)."""

import math

import pytest
import torch
import torch._dynamo  # noqa: F401  (torch.optim imports it and it wraps torch.manual_seed:
from torch import nn  # imported before the grade, so the module guard does not object)

from graders.data.digits_cnn import accuracy, load_digits_images
from graders.requires import hardware
from hardware.detect import available

torch.set_num_threads(1)
FROZEN = ["features.0", "features.1", "features.3", "features.4"]
EPOCHS, LR, BATCH = 5, 3e-3, 64
MAX_FINAL_LOSS, MIN_ACCURACY = 0.3, 0.88


class FineTuneNet(nn.Module):
    """Four conv blocks (conv → BatchNorm → ReLU) and a two-layer head, for 1×8×8 digits."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.AdaptiveAvgPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        return self.head(self.features(x))


def fresh_net():
    torch.manual_seed(70)
    return FineTuneNet().eval()


def is_frozen(name):
    return any(name == p or name.startswith(p + ".") for p in FROZEN)


def state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_freeze_marks_exactly_the_named_modules(solution):
    model = fresh_net()
    before = state(model)
    got = solution.freeze(model, list(FROZEN))
    want = sorted(n for n, _ in model.named_parameters() if is_frozen(n))
    flags = {n: p.requires_grad for n, p in model.named_parameters()}
    wrong = sorted(n for n, f in flags.items() if f == is_frozen(n))
    assert not wrong, (
        f"freeze(model, {FROZEN}) left requires_grad wrong on {wrong}: a prefix names a module, "
        "so 'features.1' holds features.1.weight and features.1.bias but not features.10.weight "
        "or features.11.bias (match the name itself or name + '.')")
    assert got == want, (
        f"freeze returned {got!r}; expected the sorted names of the frozen parameters {want!r}")
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items()), (
        "freeze changed parameter or buffer values: it only marks them")
    other = fresh_net()
    assert solution.freeze(other, []) == [] and all(p.requires_grad for p in other.parameters()), (
        "freeze(model, []) must freeze nothing and return []")


class Recorder:
    """Hooks that see every training forward: autocast state, frozen BatchNorms' mode, the
    dtype an unfrozen Linear produces, and which rows of x each batch held with its logits."""

    def __init__(self, model, frozen, x):
        self.autocast, self.bn_training, self.linear_dtypes = [], [], set()
        self.row_of = {r.numpy().tobytes(): i for i, r in enumerate(x)}  # the rows are unique
        self.batches = []  # (row indices, or None when a row is not one of x's; logits)
        self.hooks = [model.register_forward_pre_hook(self.root),
                      model.register_forward_hook(self.logits)]
        self.model = model
        for name, m in model.named_modules():
            if isinstance(m, nn.BatchNorm2d) and any(name == p for p in frozen):
                self.hooks.append(m.register_forward_pre_hook(
                    lambda mod, _i, n=name: self.bn_training.append((n, mod.training))))
        self.hooks.append(model.head[1].register_forward_hook(
            lambda _m, _i, out: self.linear_dtypes.add(out.dtype) if torch.is_grad_enabled()
            else None))

    def root(self, model, _inputs):
        if torch.is_grad_enabled():
            self.autocast.append((torch.is_autocast_enabled("cpu"),
                                  torch.get_autocast_dtype("cpu")))

    def logits(self, _model, inputs, out):
        if torch.is_grad_enabled():
            rows = [self.row_of.get(r.numpy().tobytes()) for r in inputs[0].detach().cpu()]
            self.batches.append((None if None in rows else rows, out.detach().float().cpu()))

    def remove(self):
        for h in self.hooks:
            h.remove()


def run(solution, data, *, frozen, seed, epochs, noise):
    model = fresh_net()
    before = state(model)
    rec = Recorder(model, frozen, data.x_train)
    torch.manual_seed(noise)  # the global RNG differs from run to run: only `seed` may matter
    try:
        opt, losses = solution.train_amp(model, data.x_train, data.y_train, frozen=list(frozen),
                                         epochs=epochs, lr=LR, batch_size=BATCH, seed=seed)
    finally:
        rec.remove()
    return {"model": model, "before": before, "opt": opt, "losses": losses, "rec": rec}


@pytest.fixture(scope="module")
def data():
    return load_digits_images()


@pytest.fixture(scope="module")
def first(solution, data):
    return run(solution, data, frozen=FROZEN, seed=0, epochs=EPOCHS, noise=1)


@pytest.fixture(scope="module")
def second(solution, data, first):
    return run(solution, data, frozen=FROZEN, seed=1, epochs=1, noise=2)


@pytest.fixture(scope="module")
def unfrozen(solution, data, first):
    return run(solution, data, frozen=[], seed=0, epochs=1, noise=3)


@pytest.fixture(scope="module")
def reseeded(solution, data, first):
    return run(solution, data, frozen=FROZEN, seed=1, epochs=1, noise=1)


def test_returns_adamw_and_epoch_losses(first):
    opt, losses = first["opt"], first["losses"]
    assert isinstance(opt, torch.optim.AdamW), (
        f"train_amp returned {type(opt).__name__} as its optimiser; expected the torch.optim.AdamW "
        "it trained with")
    assert all(g["lr"] == LR and g["weight_decay"] == 0.01 for g in opt.param_groups), (
        f"the optimiser's groups have lr/weight_decay "
        f"{[(g['lr'], g['weight_decay']) for g in opt.param_groups]}; expected lr={LR:g} "
        "(the argument) and weight_decay=0.01")
    assert isinstance(losses, list) and len(losses) == EPOCHS and all(
        isinstance(v, float) and math.isfinite(v) for v in losses), (
        f"train_amp returned losses {losses!r}; expected a list of {EPOCHS} finite Python "
        "floats, the mean training loss of each epoch")


def test_frozen_parameters_absent_from_the_optimiser(first):
    model, opt = first["model"], first["opt"]
    held = [id(p) for g in opt.param_groups for p in g["params"]]
    names = {id(p): n for n, p in model.named_parameters()}
    frozen_held = sorted(names.get(i, "?") for i in held if is_frozen(names.get(i, "")))
    assert not frozen_held, (
        f"the optimiser holds frozen parameters {frozen_held}: pass only the trainable ones "
        "(requires_grad=False alone still leaves them to AdamW)")
    want = {id(p) for n, p in model.named_parameters() if not is_frozen(n)}
    missing = sorted(names[i] for i in want - set(held))
    assert not missing and len(held) == len(set(held)) == len(want), (
        f"the optimiser's param_groups should hold each trainable parameter once; missing "
        f"{missing}, {len(held)} entries for {len(want)} trainable parameters")
    flags = sorted(n for n, p in model.named_parameters() if p.requires_grad == is_frozen(n))
    assert not flags, f"requires_grad is wrong after training on {flags}"


def test_frozen_parameters_and_statistics_bit_identical(first):
    model, before = first["model"], first["before"]
    after = model.state_dict()
    params = {n for n, _ in model.named_parameters()}
    moved = sorted(k for k in params if is_frozen(k) and not torch.equal(after[k], before[k]))
    assert not moved, f"frozen parameters changed during training: {moved}"
    stats = sorted(k for k in after if k not in params and is_frozen(k)
                   and not torch.equal(after[k], before[k]))
    ran_training = sorted({n for n, t in first["rec"].bn_training if t})
    assert not stats, (
        f"the running statistics of frozen BatchNorm layers changed: {stats}"
        + (f" ({', '.join(ran_training)} ran in training mode)" if ran_training else "")
        + ": keep frozen modules in eval mode while training — model.train() switches every "
        "module back to training mode, so set the frozen ones to eval after it")


def test_trainable_parameters_all_trained(first):
    model, before = first["model"], first["before"]
    still = sorted(n for n, p in model.named_parameters()
                   if not is_frozen(n) and torch.equal(p.detach(), before[n]))
    assert not still, f"trainable parameters did not change during training: {still}"
    bad = sorted(k for k, v in model.state_dict().items() if v.dtype != before[k].dtype)
    assert not bad, (
        f"{bad} are no longer {[str(before[k].dtype) for k in bad]} after training: autocast "
        "keeps float32 master weights; do not cast the model")


def test_training_forwards_run_under_bf16_autocast(first):
    seen = first["rec"].autocast
    assert seen, "train_amp never ran the model's forward with gradients enabled"
    off = sum(1 for on, dt in seen if not (on and dt == torch.bfloat16))
    assert off == 0, (
        f"{off} of {len(seen)} training forward passes ran outside "
        "torch.autocast('cpu', dtype=torch.bfloat16)")
    dtypes = first["rec"].linear_dtypes
    assert dtypes == {torch.bfloat16}, (
        f"head.1 (Linear) produced {sorted(map(str, dtypes))} during training; under bfloat16 "
        "autocast it computes in bfloat16")


def test_training_converges(first, data):
    model, losses = first["model"], first["losses"]
    assert not model.training, "train_amp must leave the model in eval mode"
    acc = accuracy(model, data.x_test, data.y_test)
    assert losses[-1] <= MAX_FINAL_LOSS and losses[-1] < losses[0], (
        f"epoch losses {[round(v, 4) for v in losses]}: the last should be ≤ {MAX_FINAL_LOSS} "
        "(measured with the recipe of the spec: about 0.06–0.13)")
    assert acc >= MIN_ACCURACY, (
        f"test accuracy {acc:.3f} < {MIN_ACCURACY} after {EPOCHS} epochs (measured: 0.93–0.97)")


def test_same_seed_same_bits(reseeded, second):
    a, b = reseeded["losses"], second["losses"]
    assert a == b, f"two runs with seed 1 gave different epoch losses: {a} and {b}"
    sa, sb = reseeded["model"].state_dict(), second["model"].state_dict()
    diff = sorted(k for k in sa if not torch.equal(sa[k], sb[k]))
    assert not diff, f"two runs with seed 1 ended with different weights in {diff}"


def epochs_of(batches, n):
    """The recorded training batches split into epochs of n rows (None if they do not)."""
    epochs, current, rows = [], [], 0
    for idx, logits in batches:
        current.append((idx, logits))
        rows += len(logits)
        if rows == n:
            epochs.append(current)
            current, rows = [], 0
        elif rows > n:
            return None
    return epochs if not current else None


def test_batches_and_epoch_losses_as_specified(first, data):
    n, y = len(data.x_train), data.y_train
    epochs = epochs_of(first["rec"].batches, n)
    assert epochs is not None and len(epochs) == EPOCHS, (
        f"the training forwards saw {sum(len(b[1]) for b in first['rec'].batches)} rows in "
        f"{len(first['rec'].batches)} batches; expected {EPOCHS} epochs of all {n} images each "
        "(the last batch of an epoch is smaller: do not drop it)")
    sizes = [BATCH] * (n // BATCH) + ([n % BATCH] if n % BATCH else [])
    orders = []
    for e, batches in enumerate(epochs):
        got = [len(b[1]) for b in batches]
        assert got == sizes, (
            f"epoch {e}: batch sizes {got}; expected {sizes}: batches of batch_size "
            "consecutive indices of the epoch's permutation, the last one smaller")
        assert all(idx is not None for idx, _ in batches), (
            f"epoch {e}: a training batch held rows that are not images of x: feed x's rows "
            "as they are (autocast casts inside each op)")
        order = [i for idx, _ in batches for i in idx]
        assert sorted(order) == list(range(n)), (
            f"epoch {e} is not a permutation of range(N): every image exactly once per epoch")
        orders.append(order)
        want = sum(float(nn.functional.cross_entropy(logits, y[idx])) * len(idx)
                   for idx, logits in batches) / n
        got_loss = first["losses"][e]
        assert abs(got_loss - want) <= 1e-5 * max(1.0, abs(want)), (
            f"epoch {e}: the returned loss is {got_loss!r}, but the mean cross-entropy of that "
            f"epoch's batches, weighted by batch size and divided by N, is {want!r} (a plain "
            "mean of the batch means over-weights the small last batch)")
    assert len({tuple(o) for o in orders}) == len(orders), (
        "two epochs used the same batch order: make the generator once and draw a new "
        "permutation from it every epoch")


def test_nothing_frozen(unfrozen):
    model, opt = unfrozen["model"], unfrozen["opt"]
    held = {id(p) for g in opt.param_groups for p in g["params"]}
    assert held == {id(p) for p in model.parameters()}, (
        "with frozen=[] the optimiser must hold every parameter")
    still = sorted(n for n, p in model.named_parameters()
                   if torch.equal(p.detach(), unfrozen["before"][n]))
    assert not still, f"with frozen=[] these parameters did not train: {still}"


def test_another_seed_another_order(first, reseeded):
    assert reseeded["losses"][0] != first["losses"][0], (
        f"seed 1 gave the same first-epoch loss as seed 0 ({first['losses'][0]!r}): the batch "
        "order must come from the seed")


def test_cuda_float16_fine_tuning(solution, data):
    ok, why = available("nvidia-gpu")
    hardware("nvidia-gpu", ok and torch.cuda.is_available(), why or "torch sees no CUDA device")
    model = fresh_net().cuda()
    before = state(model)
    seen = []
    hook = model.register_forward_pre_hook(lambda _m, _i: seen.append(
        (torch.is_autocast_enabled("cuda"), torch.get_autocast_dtype("cuda")))
        if torch.is_grad_enabled() else None)
    try:
        _, losses = solution.train_amp(model, data.x_train.cuda(), data.y_train.cuda(),
                                       frozen=list(FROZEN), epochs=EPOCHS, lr=LR,
                                       batch_size=BATCH, seed=0)
    finally:
        hook.remove()
    assert seen and all(on and dt == torch.float16 for on, dt in seen), (
        "on CUDA every training forward must run under torch.autocast('cuda', "
        "dtype=torch.float16)")
    after = model.state_dict()
    moved = sorted(k for k in after if is_frozen(k) and not torch.equal(after[k], before[k]))
    assert not moved, f"frozen parameters or statistics changed on CUDA: {moved}"
    acc = accuracy(model, data.x_test.cuda(), data.y_test.cuda())
    assert losses[-1] <= MAX_FINAL_LOSS and acc >= MIN_ACCURACY, (
        f"on CUDA: last epoch loss {losses[-1]:.4f} (≤ {MAX_FINAL_LOSS}), test accuracy "
        f"{acc:.3f} (≥ {MIN_ACCURACY})")

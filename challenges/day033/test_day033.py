"""Day 33 grader: Dataset, seeded DataLoader, training loop and evaluation, checked against
the grader's own loop; fit() trains digits to the threshold and is reproducible."""

import math
import random

import numpy as np
import pytest
import torch
import torch._dynamo  # noqa: F401  (see below)
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from graders import expect

torch.set_num_threads(1)  # small matrices: one thread is fastest and immune to a busy machine
# The first torch optimiser imports torch._dynamo, which wraps torch.manual_seed; importing it
# here, before the solution runs, keeps the grading run's module guard from calling that tampering.
THRESHOLD = 0.93  # test accuracy of fit()


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, random_state=0, stratify=y)


def indexed(solution, n=100):
    """A dataset whose first feature is the sample's index, so batches show the order."""
    X = np.zeros((n, 3))
    X[:, 0] = np.arange(n)
    X[:, 1:] = np.random.default_rng(0).standard_normal((n, 2))
    return solution.ArrayDataset(X, np.arange(n) % 7)


def epoch_order(loader, what):
    """The sample indices of one pass over `loader`, and the batch sizes."""
    order, sizes = [], []
    for batch in loader:
        assert isinstance(batch, (tuple, list)) and len(batch) == 2, (
            f"{what} must yield (features, labels) pairs, got {type(batch).__name__}"
        )
        xb, yb = batch
        assert isinstance(xb, torch.Tensor) and isinstance(yb, torch.Tensor), (
            f"{what} must yield torch tensors, got {type(xb).__name__}, {type(yb).__name__}"
        )
        assert xb.dtype == torch.float32 and yb.dtype == torch.int64, (
            f"{what} yields {xb.dtype} features and {yb.dtype} labels; expected float32 and int64"
        )
        assert xb.ndim == 2 and yb.shape == (len(xb),), (
            f"{what} yields features {tuple(xb.shape)} and labels {tuple(yb.shape)}; "
            "expected (batch, features) and (batch,)"
        )
        order += xb[:, 0].round().long().tolist()
        sizes.append(len(xb))
    return order, sizes


def small_model(seed, dropout=0.0):
    torch.manual_seed(seed)
    layers = [nn.Linear(3, 16), nn.Tanh()]
    layers += [nn.Dropout(dropout)] if dropout else []
    return nn.Sequential(*layers, nn.Linear(16, 7))


def test_dataset_length_items_and_dtypes(solution):
    X = np.random.default_rng(1).standard_normal((13, 5))  # float64, as numpy makes it
    y = np.arange(13) % 4
    ds = solution.ArrayDataset(X, y)
    assert len(ds) == 13, f"len(ArrayDataset) is {len(ds)} for 13 samples"
    for i in (0, 7, 12):
        xi, yi = ds[i]
        assert isinstance(xi, torch.Tensor) and xi.dtype == torch.float32, (
            f"ArrayDataset[{i}] features must be a float32 tensor, got "
            f"{getattr(xi, 'dtype', type(xi).__name__)}"
        )
        assert isinstance(yi, torch.Tensor) and yi.dtype == torch.int64 and yi.ndim == 0, (
            f"ArrayDataset[{i}] label must be a 0-d int64 tensor, got {yi!r}"
        )
        expect.close(xi.numpy(), X[i], what=f"ArrayDataset[{i}] features", rtol=1e-6, atol=1e-7)
        assert int(yi) == y[i], f"ArrayDataset[{i}] label is {int(yi)}, expected {y[i]}"


def test_loader_batches_cover_the_data_in_order_without_shuffle(solution):
    ds = indexed(solution, 100)
    order, sizes = epoch_order(solution.make_loader(ds, batch_size=32, shuffle=False, seed=0),
                               "make_loader(shuffle=False)")
    assert sizes == [32, 32, 32, 4], (
        f"batches of 32 over 100 samples have sizes {sizes}, expected [32, 32, 32, 4] "
        "(keep the last partial batch)"
    )
    assert order == list(range(100)), "make_loader(shuffle=False) must keep the dataset's order"


def test_shuffled_epochs_are_permutations_and_differ(solution):
    ds = indexed(solution, 100)
    loader = solution.make_loader(ds, batch_size=16, shuffle=True, seed=3)
    first, sizes = epoch_order(loader, "make_loader(shuffle=True)")
    second, _ = epoch_order(loader, "make_loader(shuffle=True)")
    assert sizes == [16] * 6 + [4], (
        f"batches of 16 over 100 samples have sizes {sizes}, expected six of 16 and one of 4 "
        "(keep the last partial batch)"
    )
    for order in (first, second):
        assert sorted(order) == list(range(100)), (
            "a shuffled epoch must visit every sample exactly once (some were repeated or missed)"
        )
    assert first != list(range(100)), "make_loader(shuffle=True) did not shuffle"
    assert first != second, (
        "two epochs of the same shuffled loader came in the same order: every epoch must "
        "draw a new order (let one generator advance; do not re-seed it at each epoch)"
    )


def test_shuffle_order_depends_on_the_seed_only(solution):
    ds = indexed(solution, 100)
    a = solution.make_loader(ds, batch_size=10, shuffle=True, seed=7)
    b = solution.make_loader(ds, batch_size=10, shuffle=True, seed=7)
    c = solution.make_loader(ds, batch_size=10, shuffle=True, seed=8)
    a_orders = [epoch_order(a, "make_loader")[0] for _ in range(2)]
    # other code using the global random generators must not change b's order
    torch.manual_seed(12345)
    torch.rand(7)
    np.random.seed(1)
    random.seed(1)
    b_orders = [epoch_order(b, "make_loader")[0] for _ in range(2)]
    assert a_orders == b_orders, (
        "two loaders made with the same seed gave different orders once the global RNG had "
        "been used in between: the order must come from the seed alone (give DataLoader its "
        "own torch.Generator seeded with `seed`), not from the global RNG"
    )
    assert epoch_order(c, "make_loader")[0] != a_orders[0], (
        "seeds 7 and 8 gave the same shuffled order: use the seed"
    )


def test_train_epoch_returns_the_sample_weighted_mean_loss(solution):
    X = torch.randn(100, 3, generator=torch.Generator().manual_seed(4))
    y = torch.arange(100) % 7
    model = small_model(seed=5)
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=False)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the model stays as it is
    got = solution.train_epoch(model, loader, optimizer, nn.CrossEntropyLoss())
    with torch.no_grad():
        want = nn.functional.cross_entropy(model(X), y).item()
    assert isinstance(got, float) and math.isfinite(got), (
        f"train_epoch must return the epoch's mean loss as a float, got {got!r}"
    )
    expect.close(got, want, what="train_epoch's loss with lr = 0 (batches 32, 32, 32, 4)",
                 rtol=1e-5, atol=1e-7,
                 oracle="the mean loss over all 100 samples (a sample-weighted mean: the short "
                        "last batch counts for 4 samples, not for a whole batch)")


def test_train_epoch_updates_like_a_plain_training_loop(solution):
    X = torch.randn(100, 3, generator=torch.Generator().manual_seed(6))
    y = torch.arange(100) % 7
    loader = DataLoader(TensorDataset(X, y), batch_size=20, shuffle=False)
    theirs, ours = small_model(seed=7), small_model(seed=7)
    seen = []
    theirs.register_forward_hook(lambda m, _i, _o: seen.append(m.training))
    theirs.eval()  # as evaluate() leaves it: train_epoch must switch back
    opt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    solution.train_epoch(theirs, loader, opt, nn.CrossEntropyLoss())
    opt_ref = torch.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    for xb, yb in loader:
        opt_ref.zero_grad()
        nn.functional.cross_entropy(ours(xb), yb).backward()
        opt_ref.step()
    assert len(seen) == 5, f"train_epoch ran the model on {len(seen)} batches, expected all 5"
    assert all(seen), "train_epoch ran the model in eval mode: call model.train() first"
    for (name, p), q in zip(theirs.named_parameters(), ours.parameters(), strict=True):
        expect.close(p.detach().numpy(), q.detach().numpy(),
                     what=f"parameter {name} after one epoch of train_epoch",
                     rtol=1e-5, atol=1e-6,
                     oracle="a plain loop (zero_grad, forward, loss, backward, step per batch)")


def test_evaluate_is_accuracy_in_eval_mode_without_gradients(solution):
    X = torch.randn(100, 3, generator=torch.Generator().manual_seed(8))
    model = small_model(seed=9, dropout=0.5).eval()
    with torch.no_grad():
        y = model(X).argmax(dim=1)  # labels the eval-mode model gets right...
    y[[5, 40]] = (y[[5, 40]] + 1) % 7  # ...but for two,
    y[96:] = (y[96:] + 1) % 7  # and the whole short last batch: 94 of 100 correct
    want = 0.94
    grad_flags = []
    model.register_forward_hook(lambda _m, _i, _o: grad_flags.append(torch.is_grad_enabled()))
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=False)
    model.train()  # as training leaves it: evaluate must switch to eval mode itself
    torch.manual_seed(0)
    got = solution.evaluate(model, loader)
    assert not any(grad_flags[:4]), (
        "evaluate ran the model with gradients enabled: wrap it in torch.no_grad()"
    )
    expect.close(got, want, what="evaluate(model, loader)", rtol=1e-9, atol=1e-12,
                 oracle="the accuracy over all 100 samples in eval mode (dropout off; "
                        "correct answers / samples, not a mean of per-batch accuracies)")


def test_fit_trains_to_threshold_and_is_reproducible(solution, digits, record_metric):
    Xtr, Xte, ytr, yte = digits
    model, losses = solution.fit(Xtr.copy(), ytr.copy(), seed=0)
    assert isinstance(model, nn.Module), "fit must return (model, losses) with a torch.nn.Module"
    losses = [float(v) for v in losses]
    assert len(losses) >= 1 and all(math.isfinite(v) for v in losses), (
        f"fit's losses must be a non-empty list of finite numbers, got {losses[:5]}"
    )
    assert losses[-1] < losses[0], (
        f"the training loss did not go down: first epoch {losses[0]:.4f}, last {losses[-1]:.4f}"
    )
    model.eval()
    with torch.no_grad():
        pred = model(torch.tensor(Xte, dtype=torch.float32)).argmax(dim=1).numpy()
    acc = float(np.mean(pred == yte))
    record_metric("test_accuracy", acc, target=f">= {THRESHOLD}",
                  verdict="PASS" if acc >= THRESHOLD else "FAIL")
    assert acc >= THRESHOLD, f"fit's model has test accuracy {acc:.3f}, below {THRESHOLD}"

    torch.manual_seed(999)  # fit must seed itself: what came before must not matter
    np.random.seed(999)
    _, again = solution.fit(Xtr.copy(), ytr.copy(), seed=0)
    assert [float(v) for v in again] == losses, (
        "fit(seed=0) twice gave different losses: the same seed must reproduce the run exactly "
        "(seed torch for the weights and the loader's generator for the order)\n"
        f"first:  {losses[:3]}\nsecond: {[float(v) for v in again][:3]}"
    )
    _, other = solution.fit(Xtr.copy(), ytr.copy(), seed=1)
    assert [float(v) for v in other] != losses, (
        "fit(seed=0) and fit(seed=1) gave identical losses: the seed is not used"
    )
    record_metric("final_train_loss", losses[-1])

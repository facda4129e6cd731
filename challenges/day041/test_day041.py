"""Day 41 grader: an RNN cell and layer checked against torch.nn.RNNCell / torch.nn.RNN with
the same weights, then trained on a task that needs a hidden state (sign of a running sum)."""

import time

import pytest
import torch

from graders import expect, forbid
from graders.data.sequences import sign_of_sum
from graders.seeding import weights_at_first_forward

TOL = dict(rtol=1e-5, atol=1e-5, oracle="torch")
LIBRARY_RNNS = ["torch.nn.RNN", "torch.nn.RNNCell", "torch.nn.LSTM", "torch.nn.LSTMCell",
                "torch.nn.GRU", "torch.nn.GRUCell", "torch.rnn_tanh", "torch.rnn_tanh_cell"]
MIN_ACCURACY = 0.90

# Tiny models: one thread is as fast as two, and far faster on a busy machine (no spinning).
torch.set_num_threads(1)
# The first optimiser step imports torch._dynamo, which wraps torch.manual_seed; import it
# before the grade starts so that wrapping is not mistaken for the solution's doing.
import torch._dynamo  # noqa: E402, F401


def test_no_library_recurrent_layers(solution_dir):
    forbid.assert_not_used(solution_dir, LIBRARY_RNNS, why="write the recurrence yourself")


def test_cell_has_the_parameters_of_torch_rnncell(solution):
    torch.manual_seed(0)
    mine = dict(solution.RNNCell(3, 5).named_parameters())
    want = {k: tuple(v.shape) for k, v in torch.nn.RNNCell(3, 5).named_parameters()}
    got = {k: tuple(v.shape) for k, v in mine.items()}
    assert got == want, f"RNNCell(3, 5) parameters are {got}; the spec asks for {want}"


@pytest.mark.parametrize("I,H,B", [(1, 4, 1), (3, 5, 7), (8, 2, 4)])
def test_cell_matches_torch_rnncell(solution, I, H, B):  # noqa: E741 (input size, as in the docs)
    torch.manual_seed(I * 100 + H)
    ref = torch.nn.RNNCell(I, H)
    cell = solution.RNNCell(I, H)
    cell.load_state_dict(ref.state_dict())
    x, h = torch.randn(B, I), torch.randn(B, H)
    expect.close(cell(x, h).detach(), ref(x, h).detach(),
                 what=f"RNNCell({I}, {H}) on a batch of {B} with a given h", **TOL)
    expect.close(cell(x).detach(), ref(x).detach(),
                 what=f"RNNCell({I}, {H}) with h=None (zeros)", **TOL)


def test_cell_gradients_match_torch(solution):
    torch.manual_seed(1)
    ref = torch.nn.RNNCell(3, 4)
    cell = solution.RNNCell(3, 4)
    cell.load_state_dict(ref.state_dict())
    x, h = torch.randn(6, 3), torch.randn(6, 4)
    (ref(x, h) ** 2).sum().backward()
    (cell(x, h) ** 2).sum().backward()
    for name, p in cell.named_parameters():
        assert p.grad is not None, f"no gradient reached RNNCell.{name}: compute with torch ops"
        expect.close(p.grad, dict(ref.named_parameters())[name].grad,
                     what=f"gradient of RNNCell.{name}", **TOL)


@pytest.mark.parametrize("with_h0", [False, True])
def test_layer_matches_torch_rnn(solution, with_h0):
    torch.manual_seed(2)
    T, B, I, H = 7, 3, 4, 5  # noqa: E741 -- all different, so a swapped axis cannot go unnoticed
    ref = torch.nn.RNN(I, H)
    layer = solution.RNN(I, H)
    layer.cell.load_state_dict({"weight_ih": ref.weight_ih_l0, "weight_hh": ref.weight_hh_l0,
                                "bias_ih": ref.bias_ih_l0, "bias_hh": ref.bias_hh_l0})
    x, h0 = torch.randn(T, B, I), torch.randn(B, H)
    want_out, want_h = ref(x, h0[None]) if with_h0 else ref(x)
    got_out, got_h = layer(x, h0) if with_h0 else layer(x)
    what = "RNN outputs over time" + (" from a given h0" if with_h0 else "")
    expect.close(got_out.detach(), want_out.detach(), what=what, **TOL)
    expect.close(got_h.detach(), want_h[0].detach(), what="RNN final hidden state", **TOL)


def _not_ready(solution, solution_dir):
    """Why training would be pointless (a forbidden layer, a layer that differs from torch)."""
    if forbid.violations(solution_dir, LIBRARY_RNNS):
        return "it uses a forbidden library RNN"
    torch.manual_seed(3)
    ref = torch.nn.RNN(2, 3)
    layer = solution.RNN(2, 3)
    layer.cell.load_state_dict({"weight_ih": ref.weight_ih_l0, "weight_hh": ref.weight_hh_l0,
                                "bias_ih": ref.bias_ih_l0, "bias_hh": ref.bias_hh_l0})
    x = torch.randn(4, 2, 2)
    if not torch.allclose(layer(x)[0], ref(x)[0], rtol=1e-5, atol=1e-5):
        return "your RNN does not match torch.nn.RNN yet"
    return None


def _initial_cell_weights(solution, seed, scramble):
    """The RNNCell weights train_classifier builds (graders.seeding); [] if never called."""
    X, y = sign_of_sum(64, length=15, seed=7)
    return weights_at_first_forward(
        [solution.RNNCell], lambda: solution.train_classifier(X, y, seed=seed), scramble)


def test_train_classifier_is_seeded(solution, solution_dir):
    problem = _not_ready(solution, solution_dir)
    if problem:
        pytest.fail(f"not attempted: {problem} (see the other checks)", pytrace=False)
    first = _initial_cell_weights(solution, seed=0, scramble=11)
    assert first, "train_classifier never called your RNNCell: the model must use it"
    again = _initial_cell_weights(solution, seed=0, scramble=22)
    assert len(first) == len(again) and all(
        torch.equal(a, b) for a, b in zip(first, again, strict=True)), (
        "train_classifier(X, y, seed=0) built differently initialised cells in two runs (the "
        "global random state differed between them): call torch.manual_seed(seed) first")
    other = _initial_cell_weights(solution, seed=1, scramble=11)
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True)), (
        "train_classifier gave the same initial weights for seeds 0 and 1: use the seed")


def test_learns_the_sign_of_a_running_sum(solution, solution_dir, record_metric):
    problem = _not_ready(solution, solution_dir)
    if problem:
        pytest.fail(f"training not attempted: {problem} (see the other checks)", pytrace=False)
    X, y = sign_of_sum(1000, length=15, seed=41)
    X_test, y_test = sign_of_sum(1000, length=15, seed=4141)
    calls = {"n": 0}
    original = solution.RNNCell.forward

    def counted(self, *args, **kwargs):
        calls["n"] += 1
        return original(self, *args, **kwargs)

    solution.RNNCell.forward = counted
    try:
        start = time.perf_counter()
        predict = solution.train_classifier(X.clone(), y.clone(), seed=0)
        seconds = time.perf_counter() - start
        pred = torch.as_tensor(predict(X_test.clone()))
    finally:
        solution.RNNCell.forward = original
    assert calls["n"] > 0, "train_classifier never called your RNNCell: the model must use it"
    assert pred.shape == y_test.shape, (
        f"predict returned shape {tuple(pred.shape)}, expected {tuple(y_test.shape)}")
    assert pred.dtype == torch.int64, f"predict returned {pred.dtype} labels; expected int64"
    accuracy = (pred.long() == y_test).float().mean().item()
    record_metric("test_accuracy", accuracy, target=f">= {MIN_ACCURACY}")
    record_metric("train_seconds", seconds, unit="s")
    assert accuracy >= MIN_ACCURACY, (
        f"test accuracy {accuracy:.3f} < {MIN_ACCURACY}: the sign of a running sum needs the "
        "hidden state carried from step to step (a model seeing only the last step gets 0.58)"
    )

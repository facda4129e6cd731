"""Day 48 grader: an attention-based encoder-decoder. The attention module and the model's
attention are checked for what attention must be (weights >= 0 summing to 1 over the source,
zero on padding, the context their weighted sum of the keys, padding ignored), then the
model is trained on toy translation (reversal) to an exact-match threshold."""

import time

import pytest
import torch

from graders import expect, forbid
from graders.data.translation import EOS, PAD, VOCAB_SIZE, pad_batch, reversal_pairs

# Small models: one thread is as fast as two, and far faster on a busy machine (no spinning).
torch.set_num_threads(1)
# The first optimiser step imports torch._dynamo, which wraps torch.manual_seed; import it
# before the grade starts so that wrapping is not mistaken for the solution's doing.
import torch._dynamo  # noqa: E402, F401

FORBIDDEN = ["torch.nn.MultiheadAttention", "torch.nn.functional.scaled_dot_product_attention",
             "torch.nn.functional.multi_head_attention_forward", "torch.nn.Transformer"]
MIN_EXACT_MATCH = 0.75
ATOL = 1e-5


def test_no_library_attention(solution_dir):
    forbid.assert_not_used(solution_dir, FORBIDDEN, why="write the attention yourself")


def _attention_inputs():
    g = torch.Generator().manual_seed(48)
    query, keys = torch.randn(4, 16, generator=g), torch.randn(4, 6, 16, generator=g)
    mask = torch.tensor([[1] * 6, [1] * 4 + [0] * 2, [1] * 2 + [0] * 4, [1] + [0] * 5]).bool()
    return query, keys, mask


def _check_weights(weights, mask, what):
    weights = weights.detach()
    expect.close(weights.sum(-1), torch.ones(weights.shape[:-1]),
                 what=f"{what}: the sum of the weights over the source positions",
                 oracle="1", rtol=0, atol=ATOL)
    assert (weights >= 0).all(), f"{what}: negative attention weights"
    leaked = weights[~mask.expand_as(weights)].abs().max().item() if (~mask).any() else 0.0
    assert leaked == 0.0, (
        f"{what}: padding positions get weight up to {leaked:.3g}; they must get exactly 0 "
        "(set their scores to -inf before the softmax)")


def test_attention_weights_and_context(solution):
    torch.manual_seed(0)
    attention = solution.Attention(16)
    query, keys, mask = _attention_inputs()
    context, weights = attention(query, keys, mask)
    assert tuple(weights.shape) == (4, 6) and tuple(context.shape) == (4, 16), (
        f"Attention returned context {tuple(context.shape)} and weights {tuple(weights.shape)}; "
        "expected (4, 16) and (4, 6)")
    _check_weights(weights, mask, "Attention")
    expect.close(context.detach(), torch.einsum("bs,bsh->bh", weights.detach(), keys),
                 what="the context vector", oracle="the weights' sum of the keys",
                 rtol=1e-5, atol=ATOL)
    changed = keys.clone()
    changed[~mask] = 100.0  # what sits at padding positions must not matter
    context2, _ = attention(query, changed, mask)
    expect.close(context2.detach(), context.detach(), what="the context when padding keys change",
                 oracle="the context before", rtol=1e-5, atol=ATOL)


def _model(solution):
    torch.manual_seed(1)
    model = solution.Seq2Seq(VOCAB_SIZE)
    model.eval()
    return model


def _sample(seed=2):
    src, tgt = reversal_pairs(5, seed=seed)
    return pad_batch(src), pad_batch(tgt, bos=True)


def test_model_attention_is_a_distribution_over_real_tokens(solution):
    src, tgt_in = _sample()
    with torch.no_grad():
        logits, attn = _model(solution)(src, tgt_in)
    assert tuple(logits.shape) == (*tgt_in.shape, VOCAB_SIZE), (
        f"logits have shape {tuple(logits.shape)}, expected {(*tgt_in.shape, VOCAB_SIZE)}")
    assert tuple(attn.shape) == (*tgt_in.shape, src.shape[1]), (
        f"attention has shape {tuple(attn.shape)}, expected (batch, target length, source "
        f"length) = {(*tgt_in.shape, src.shape[1])}")
    _check_weights(attn, (src != PAD)[:, None, :], "the model's attention")


def _padding_problem(model):
    src, tgt_in = _sample(3)
    with torch.no_grad():
        base, _ = model(src, tgt_in)
        wider = torch.cat([src, torch.full((src.shape[0], 3), PAD)], dim=1)
        logits, _ = model(wider, tgt_in)
    diff = (logits - base).abs().max().item()
    if diff > 1e-4:
        return (f"appending 3 PAD tokens to the source changes the logits by {diff:.3g}: the "
                "encoder's final state or the attention sees the padding (pack the sequences, "
                "or take each sequence's state at its last real token, and mask the attention)")
    return None


def test_source_padding_is_ignored(solution):
    problem = _padding_problem(_model(solution))
    assert problem is None, problem


def test_learns_to_reverse(solution, solution_dir, record_metric):
    problem = _padding_problem(_model(solution))
    try:
        torch.manual_seed(0)
        _check_weights(solution.Attention(16)(*_attention_inputs())[1], _attention_inputs()[2],
                       "Attention")
    except AssertionError:
        problem = "the Attention module is wrong (see its check)"
    if forbid.violations(solution_dir, FORBIDDEN):
        problem = "it uses a forbidden library attention"
    if problem:
        pytest.fail(f"training not attempted: {problem}", pytrace=False)
    src, tgt = reversal_pairs(3000, seed=48)
    test_src, test_tgt = reversal_pairs(300, seed=4848)
    start = time.perf_counter()
    model = solution.train_seq2seq([list(s) for s in src], [list(t) for t in tgt], seed=0)
    seconds = time.perf_counter() - start
    model.eval()
    max_len = max(map(len, test_tgt)) + 1
    pred, attn = solution.greedy_decode(model, pad_batch(test_src), max_len)
    pred = torch.as_tensor(pred)
    assert pred.shape == (300, max_len), (
        f"greedy_decode returned tokens of shape {tuple(pred.shape)}, expected (300, {max_len})")
    assert pred.dtype == torch.int64, f"greedy_decode returned {pred.dtype} tokens, not int64"
    after_eos = (pred == EOS).long().cumsum(dim=1) - (pred == EOS).long() > 0
    assert (pred[after_eos] == PAD).all(), (
        "greedy_decode left tokens other than PAD after a row's first EOS: every position "
        "after the first EOS must be PAD")
    src_mask = (pad_batch(test_src) != PAD)[:, None, :]
    _check_weights(torch.as_tensor(attn), src_mask, "greedy_decode's attention")
    hits = sum(row[:len(t)] == t and row[len(t)] == EOS
               for row, t in zip(pred.tolist(), test_tgt, strict=True))
    exact = hits / len(test_tgt)
    record_metric("exact_match", exact, target=f">= {MIN_EXACT_MATCH}")
    record_metric("train_seconds", seconds, unit="s")
    assert exact >= MIN_EXACT_MATCH, (
        f"exact match {exact:.3f} < {MIN_EXACT_MATCH} on 300 held-out reversals (each output "
        "must be the reversed source followed by EOS)")

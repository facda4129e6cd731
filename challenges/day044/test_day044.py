"""Day 44 grader: a mini encoder-decoder transformer. Properties any correct model has
(a causal decoder, source padding ignored, batch items independent), then training on toy
translation (sequence reversal) to an exact-match threshold on held-out pairs."""

import time

import pytest
import torch

from graders import forbid
from graders.data.translation import BOS, EOS, PAD, VOCAB_SIZE, pad_batch, reversal_pairs
from graders.seeding import weights_at_first_forward

# Small models: one thread is as fast as two, and far faster on a busy machine (no spinning).
torch.set_num_threads(1)
# The first optimiser step imports torch._dynamo, which wraps torch.manual_seed; import it
# before the grade starts so that wrapping is not mistaken for the solution's doing.
import torch._dynamo  # noqa: E402, F401

FORBIDDEN = ["torch.nn.Transformer", "torch.nn.TransformerEncoder", "torch.nn.TransformerDecoder",
             "torch.nn.TransformerEncoderLayer", "torch.nn.TransformerDecoderLayer"]
TRAIN_PAIRS, TEST_PAIRS = 3000, 300
MIN_EXACT_MATCH = 0.85
ATOL = 1e-4


def _model(solution, seed=0):
    torch.manual_seed(seed)
    model = solution.Seq2SeqTransformer(VOCAB_SIZE)
    model.eval()  # no dropout: the checks compare deterministic outputs
    return model


def _logits(model, src, tgt_in):
    with torch.no_grad():
        try:
            out = model(src, tgt_in)
        except NotImplementedError:
            raise
        except Exception as exc:  # torch's own shape asserts included: say where it failed
            raise AssertionError(
                f"model(src, tgt_in) failed for src {tuple(src.shape)} and tgt_in "
                f"{tuple(tgt_in.shape)}: {type(exc).__name__}: {exc}") from None
    assert out.shape == (*tgt_in.shape, VOCAB_SIZE), (
        f"model(src, tgt_in) returned shape {tuple(out.shape)}; expected "
        f"(batch, target length, vocab) = {(*tgt_in.shape, VOCAB_SIZE)}")
    return out


def _sample(seed, n=4):
    src, tgt = reversal_pairs(n, seed=seed)
    return pad_batch(src), pad_batch(tgt, bos=True)


def test_no_library_transformer(solution_dir):
    forbid.assert_not_used(solution_dir, FORBIDDEN,
                           why="build the blocks yourself; nn.MultiheadAttention is allowed")


def _causal_problem(model):
    src, tgt_in = _sample(1)
    base = _logits(model, src, tgt_in)
    T = tgt_in.shape[1]
    for t in range(1, T):
        changed = tgt_in.clone()
        changed[:, t:] = torch.randint(3, VOCAB_SIZE, changed[:, t:].shape,
                                       generator=torch.Generator().manual_seed(t))
        diff = (_logits(model, src, changed)[:, :t] - base[:, :t]).abs().max().item()
        if diff > ATOL:
            return (f"the logits at positions before {t} change by {diff:.3g} when target tokens "
                    f"at positions >= {t} change: the decoder sees the future (causal mask?)")
    return None


def test_decoder_is_causal(solution):
    problem = _causal_problem(_model(solution))
    assert problem is None, problem


def _padding_problem(model):
    src, tgt_in = _sample(2)
    base = _logits(model, src, tgt_in)
    wider = torch.cat([src, torch.full((src.shape[0], 3), PAD)], dim=1)
    diff = (_logits(model, wider, tgt_in) - base).abs().max().item()
    if diff > ATOL:
        return (f"appending 3 PAD tokens to the source changes the logits by {diff:.3g}: mask "
                "source padding (key_padding_mask) in the encoder and in cross-attention")
    return None


def test_source_padding_is_ignored(solution):
    problem = _padding_problem(_model(solution))
    assert problem is None, problem


def _batch_problem(model):
    src, tgt = reversal_pairs(5, seed=3, min_len=6, max_len=6)  # one length: no padding
    src, tgt_in = pad_batch(src), pad_batch(tgt, bos=True)
    together = _logits(model, src, tgt_in)
    for i in range(len(src)):
        alone = _logits(model, src[i:i + 1], tgt_in[i:i + 1])
        diff = (alone - together[i:i + 1]).abs().max().item()
        if diff > ATOL:
            return (f"sequence {i}'s logits change by {diff:.3g} when other sequences share its "
                    "batch: attention mixes batch items (nn.MultiheadAttention needs "
                    "batch_first=True for (batch, length, d) inputs)")
    return None


def test_batch_items_are_independent(solution):
    problem = _batch_problem(_model(solution))
    assert problem is None, problem


def _initial_weights(solution, seed, scramble):
    """The model weights train_translator builds (graders.seeding); [] if never called."""
    src, tgt = reversal_pairs(64, seed=7)
    return weights_at_first_forward(
        [solution.Seq2SeqTransformer],
        lambda: solution.train_translator([list(s) for s in src], [list(t) for t in tgt],
                                          seed=seed), scramble)


def test_train_translator_is_seeded(solution):
    first = _initial_weights(solution, seed=0, scramble=11)
    if not first:
        pytest.skip("train_translator never calls the model's forward: seeding not checked")
    again = _initial_weights(solution, seed=0, scramble=22)
    assert len(first) == len(again) and all(
        torch.equal(a, b) for a, b in zip(first, again, strict=True)), (
        "train_translator(..., seed=0) built differently initialised models in two runs (the "
        "global random state differed between them): call torch.manual_seed(seed) first")
    other = _initial_weights(solution, seed=1, scramble=11)
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True)), (
        "train_translator gave the same initial weights for seeds 0 and 1: use the seed")


def _exact_matches(pred, targets):
    hits = 0
    for row, t in zip(pred.tolist(), targets, strict=True):
        hits += row[:len(t)] == t and len(row) > len(t) and row[len(t)] == EOS
    return hits


def test_learns_to_reverse(solution, solution_dir, record_metric):
    model = _model(solution)
    problems = [p for p in (_causal_problem(model), _padding_problem(model),
                            _batch_problem(model)) if p]
    if forbid.violations(solution_dir, FORBIDDEN):
        problems.insert(0, "it uses a forbidden library transformer")
    if problems:
        pytest.fail(f"training not attempted: {problems[0]}", pytrace=False)
    src, tgt = reversal_pairs(TRAIN_PAIRS, seed=44)
    test_src, test_tgt = reversal_pairs(TEST_PAIRS, seed=4444)
    start = time.perf_counter()
    trained = solution.train_translator([list(s) for s in src], [list(t) for t in tgt], seed=0)
    seconds = time.perf_counter() - start
    trained.eval()
    max_len = max(map(len, test_tgt)) + 1
    pred = solution.greedy_decode(trained, pad_batch(test_src), max_len)
    pred = torch.as_tensor(pred)
    assert pred.dtype == torch.long and pred.shape == (TEST_PAIRS, max_len), (
        f"greedy_decode returned {pred.dtype} {tuple(pred.shape)}; expected int64 "
        f"(batch, max_len) = ({TEST_PAIRS}, {max_len})")
    assert not (pred == BOS).any(), "greedy_decode must return the tokens after BOS, without it"
    after_eos = (pred == EOS).long().cumsum(dim=1) - (pred == EOS).long() > 0
    assert (pred[after_eos] == PAD).all(), (
        "greedy_decode left tokens other than PAD after a row's first EOS: every position "
        "after the first EOS must be PAD")
    exact = _exact_matches(pred, test_tgt) / TEST_PAIRS
    record_metric("exact_match", exact, target=f">= {MIN_EXACT_MATCH}")
    record_metric("train_seconds", seconds, unit="s")
    assert exact >= MIN_EXACT_MATCH, (
        f"exact match {exact:.3f} < {MIN_EXACT_MATCH} on {TEST_PAIRS} held-out reversals "
        "(each output must be the reversed source followed by EOS). Reversal needs position "
        "information: are positional encodings added to both source and target embeddings?")
    problem = _causal_problem(trained)
    assert problem is None, f"after training: {problem}"

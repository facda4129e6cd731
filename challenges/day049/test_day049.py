"""Day 49 grader: beam search and greedy decoding over next-token models. Oracles: brute-force
enumeration of every hypothesis (short lengths), the shrinking-beam algorithm of the spec,
and greedy decoding; models: random lookup tables and a small GRU decoder."""

import itertools
import math

import pytest
import torch

TOL = 1e-5
BOS, EOS = 0, 1


class TableModel:
    """Next-token log-probabilities from a random table keyed by (position, last token),
    counting the calls and the prefixes it is asked about."""

    def __init__(self, vocab, seed, max_len=8, temperature=1.0):
        g = torch.Generator().manual_seed(seed)
        logits = torch.randn(max_len, vocab, vocab, generator=g) * temperature
        self.table = torch.log_softmax(logits, dim=-1)
        self.calls = 0
        self.vocab = vocab

    def __call__(self, prefixes):
        assert (isinstance(prefixes, torch.Tensor) and prefixes.dtype == torch.long
                and prefixes.dim() == 2), "step_fn must be called with an int64 tensor (N, t)"
        assert (prefixes[:, 0] == BOS).all(), "every prefix given to step_fn must start with BOS"
        assert not (prefixes[:, 1:] == EOS).any(), (
            "a finished hypothesis (ending in EOS) was extended: EOS ends a hypothesis")
        self.calls += 1
        t = prefixes.shape[1] - 1
        return self.table[t, prefixes[:, -1]]


class GRUModel(torch.nn.Module):
    """A small GRU decoder with fixed random weights, used through the same step_fn."""

    def __init__(self, vocab, seed):
        super().__init__()
        torch.manual_seed(seed)
        self.embed = torch.nn.Embedding(vocab, 8)
        self.gru = torch.nn.GRU(8, 16, batch_first=True)
        self.out = torch.nn.Linear(16, vocab)

    @torch.no_grad()
    def __call__(self, prefixes):
        hidden, _ = self.gru(self.embed(prefixes))
        return torch.log_softmax(self.out(hidden[:, -1]) * 3, dim=-1)


def brute_force(step_fn, vocab, max_len, length_penalty=0.0):
    """Every complete hypothesis (ends in EOS, or reaches max_len), scored and ranked."""
    results = []
    for length in range(1, max_len + 1):
        for body in itertools.product([v for v in range(vocab) if v != EOS], repeat=length - 1):
            for last in range(vocab):
                if last != EOS and length < max_len:
                    continue  # unfinished, and not at max_len: not a hypothesis
                tokens = list(body) + [last]
                total = sum(float(step_fn(torch.tensor([[BOS] + tokens[:i]]))[0, tok])
                            for i, tok in enumerate(tokens))
                results.append((tokens, total / length ** length_penalty))
    results.sort(key=lambda r: r[1], reverse=True)
    return results


def shrinking_beam(step_fn, beam_size, max_len, length_penalty=0.0):
    """The algorithm the spec describes, written independently of the learner's."""
    beam, done, k = [((), 0.0)], [], beam_size
    for _ in range(max_len):
        if not beam or k <= 0:
            break
        logp = step_fn(torch.tensor([(BOS, *tokens) for tokens, _ in beam]))
        flat = logp + torch.tensor([total for _, total in beam])[:, None]
        order = torch.argsort(flat.flatten(), descending=True)[:k]
        nxt = []
        for idx in order.tolist():
            row, tok = divmod(idx, logp.shape[1])
            cand = (beam[row][0] + (tok,), float(flat[row, tok]))
            (done if tok == EOS or len(cand[0]) == max_len else nxt).append(cand)
        k -= len(order) - len(nxt)
        beam = nxt
    ranked = [(list(t), s / len(t) ** length_penalty) for t, s in done]
    return sorted(ranked, key=lambda r: r[1], reverse=True)


def _check(got, want, what):
    assert isinstance(got, list), f"{what}: beam_search must return a list of (tokens, score)"
    got_tokens = [list(map(int, tokens)) for tokens, _ in got]
    want_tokens = [tokens for tokens, _ in want]
    assert len(got) == len(want), (
        f"{what}: {len(got)} hypotheses returned, expected {len(want)}; best expected "
        f"{want_tokens[:3]}, got {got_tokens[:3]}")
    for rank, ((tokens, s), (w_tokens, w_s)) in enumerate(zip(got, want, strict=True)):
        assert list(map(int, tokens)) == w_tokens, (
            f"{what}: hypothesis {rank} is {list(map(int, tokens))}, expected {w_tokens} "
            f"(score {w_s:.5f})")
        assert math.isclose(float(s), w_s, rel_tol=TOL, abs_tol=TOL), (
            f"{what}: the score of {w_tokens} is {float(s):.6f}, expected {w_s:.6f}")


@pytest.mark.parametrize("alpha", [0.0, 1.0, 0.6])
@pytest.mark.parametrize("seed", [1, 2])
def test_exhaustive_beam_equals_brute_force(solution, seed, alpha):
    # vocabulary 4, max_len 3: 40 complete hypotheses; a beam of 40 prunes nothing
    model = TableModel(4, seed)
    want = brute_force(model, 4, 3, alpha)
    assert len(want) == 40
    got = solution.beam_search(model, BOS, EOS, beam_size=40, max_len=3, length_penalty=alpha)
    _check(got, want, f"beam 40 (exhaustive), length_penalty={alpha}")


def test_top_hypotheses_match_brute_force_on_a_gru(solution):
    model = GRUModel(5, seed=49)
    want = brute_force(model, 5, 3)  # 1 + 4 + 16 + 64 = 85 hypotheses
    got = solution.beam_search(model, BOS, EOS, beam_size=len(want), max_len=3)
    _check(got[:5], want[:5], "beam search on a GRU decoder, top 5")


@pytest.mark.parametrize("seed", [3, 4, 5, 6, 7])
def test_beam_of_one_is_greedy(solution, seed):
    model = TableModel(6, seed, temperature=2.0)
    tokens, total = solution.greedy_decode(model, BOS, EOS, max_len=7)
    want = shrinking_beam(model, 1, 7)[0]
    assert list(map(int, tokens)) == want[0], f"greedy_decode gave {tokens}, expected {want[0]}"
    assert math.isclose(float(total), want[1], rel_tol=TOL, abs_tol=TOL), (
        f"greedy_decode's log-probability is {float(total):.6f}, expected {want[1]:.6f}")
    got = solution.beam_search(model, BOS, EOS, beam_size=1, max_len=7)
    _check(got, [want], "beam_size=1 (must equal greedy)")


@pytest.mark.parametrize("beam,alpha,seed",
                         [(2, 0.0, 8), (3, 0.0, 9), (4, 1.0, 10), (5, 0.7, 11)])
def test_pruning_follows_the_spec(solution, beam, alpha, seed):
    model = TableModel(6, seed, temperature=1.5)
    want = shrinking_beam(model, beam, 6, alpha)
    got = solution.beam_search(model, BOS, EOS, beam_size=beam, max_len=6, length_penalty=alpha)
    _check(got, want, f"beam_size={beam}, max_len=6, length_penalty={alpha}")


def test_beam_finds_what_greedy_misses(solution):
    """Token 2 looks best first (0.6) but is followed by a flat distribution; token 3 (0.4)
    is followed by a near-certain EOS. Greedy takes 2; a beam of 2 finds 3, EOS."""
    def step_fn(prefixes):
        rows = []
        for p in prefixes.tolist():
            if len(p) == 1:
                probs = [1e-6, 1e-6, 0.6, 0.4, 1e-6]
            elif p[-1] == 3:
                probs = [1e-6, 0.99, 1e-6, 1e-6, 1e-6]
            else:
                probs = [0.2] * 5
            rows.append(torch.log(torch.tensor(probs) / sum(probs)))
        return torch.stack(rows)

    greedy_tokens, greedy_total = solution.greedy_decode(step_fn, BOS, EOS, max_len=2)
    best_tokens, best_score = solution.beam_search(step_fn, BOS, EOS, beam_size=2, max_len=2)[0]
    assert list(map(int, greedy_tokens))[0] == 2, "greedy must take the locally best token, 2"
    assert list(map(int, best_tokens)) == [3, EOS], (
        f"beam_size=2 returned {list(best_tokens)} first; [3, EOS] has the higher total "
        f"log-probability ({math.log(0.4 * 0.99):.3f} against greedy's {float(greedy_total):.3f})")
    assert best_score > greedy_total


def test_length_penalty_changes_the_winner(solution):
    """An early EOS is likely but the long sequences are individually better per token:
    alpha=0 must prefer the short one, alpha=1 a long one."""
    def step_fn(prefixes):
        rows = []
        for p in prefixes.tolist():
            if len(p) == 1:
                probs = [1e-3, 0.5, 0.5, 1e-3]
            else:
                probs = [1e-3, 0.05, 0.9, 0.05]
            rows.append(torch.log(torch.tensor(probs) / sum(probs)))
        return torch.stack(rows)

    short = solution.beam_search(step_fn, BOS, EOS, beam_size=3, max_len=4, length_penalty=0.0)
    long = solution.beam_search(step_fn, BOS, EOS, beam_size=3, max_len=4, length_penalty=1.0)
    assert list(map(int, short[0][0])) == [EOS], (
        f"with length_penalty=0 the best hypothesis should be [EOS], got {list(short[0][0])}")
    assert len(long[0][0]) > 1, (
        "with length_penalty=1 (score = log p / length) a longer hypothesis should win; "
        f"got {list(long[0][0])}: is the length the number of generated tokens, EOS included?")


def test_one_batched_model_call_per_step(solution):
    model = TableModel(6, 12)
    solution.beam_search(model, BOS, EOS, beam_size=4, max_len=6)
    assert model.calls <= 6, (
        f"beam_search called step_fn {model.calls} times for max_len=6: call it once per step "
        "with all live prefixes stacked (one batch), not once per hypothesis")

# mistake: calls the model once per hypothesis instead of once per step
# expect: called step_fn
"""Day 49 reference: greedy decoding and beam search (a shrinking beam) over any model that
gives next-token log-probabilities for a batch of prefixes."""

import torch


def score(logprob, length, length_penalty=0.0):
    """The ranking score of a hypothesis: its log-probability divided by length ** alpha."""
    return logprob / (length ** length_penalty)


def greedy_decode(step_fn, bos, eos, max_len):
    """Take the most likely token at every step; returns (tokens, total log-probability)."""
    tokens, total = [], 0.0
    while len(tokens) < max_len:
        logp = step_fn(torch.tensor([[bos] + tokens]))[0]
        best = int(torch.argmax(logp))
        tokens.append(best)
        total += float(logp[best])
        if best == eos:
            break
    return tokens, total


def beam_search(step_fn, bos, eos, beam_size, max_len, length_penalty=0.0):
    """Keep the `k` best partial hypotheses; each finished one leaves the beam and k shrinks.

    Returns up to beam_size (tokens, score) pairs, best first.
    """
    live = [([], 0.0)]  # (tokens after BOS, log-probability)
    finished = []
    k = beam_size
    for _step in range(max_len):
        logp = torch.cat([step_fn(torch.tensor([[bos] + tokens])) for tokens, _ in live])
        candidates = [
            (tokens + [v], total + float(logp[i, v]))
            for i, (tokens, total) in enumerate(live)
            for v in range(logp.shape[1])
        ]
        # every candidate has the same length here, so the raw log-probability ranks them
        candidates.sort(key=lambda c: c[1], reverse=True)
        live = []
        for tokens, total in candidates[:k]:
            if tokens[-1] == eos or len(tokens) == max_len:
                finished.append((tokens, total))
            else:
                live.append((tokens, total))
        k -= len(candidates[:k]) - len(live)
        if not live or k == 0:
            break
    ranked = [(tokens, score(total, len(tokens), length_penalty)) for tokens, total in finished]
    ranked.sort(key=lambda c: c[1], reverse=True)
    return ranked

"""Day 49: greedy decoding and beam search over any next-token model."""


def greedy_decode(step_fn, bos, eos, max_len):
    """Pick the most likely next token at each step, from [bos], until eos or max_len tokens.

    step_fn(prefixes) takes an int64 tensor (N, t) of prefixes (each starting with bos) and
    returns next-token log-probabilities (N, V).
    Returns (tokens, logprob): the generated tokens (bos excluded, eos included if produced)
    and the sum of their log-probabilities.
    """
    # TODO
    raise NotImplementedError("greedy_decode")


def beam_search(step_fn, bos, eos, beam_size, max_len, length_penalty=0.0):
    """Shrinking-beam search (see the spec for the exact algorithm).

    Returns a list of at most beam_size (tokens, score) pairs sorted best first, where
    score = total log-probability / len(tokens) ** length_penalty.
    """
    # TODO: keep k live hypotheses; one batched step_fn call per step; global top-k of all
    #       extensions; a finished hypothesis (eos, or max_len tokens) leaves the beam, k -= 1
    raise NotImplementedError("beam_search")

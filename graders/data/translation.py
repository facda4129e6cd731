"""Toy translation pairs for sequence-to-sequence models (deterministic, offline).

The "translation" of a sequence of symbols is the same symbols in reverse order: easy to
state, impossible without knowing positions, and checkable by exact match.

    from graders.data.translation import reversal_pairs, PAD, BOS, EOS, VOCAB_SIZE
    src, tgt = reversal_pairs(2000, seed=44)   # lists of lists of ints, tgt[i] = src[i][::-1]

Token ids: 0 PAD, 1 BOS, 2 EOS, symbols 3 .. VOCAB_SIZE-1. Sequences hold no PAD/BOS/EOS;
add them yourself (`pad_batch` helps).
"""

from __future__ import annotations

import random

PAD, BOS, EOS = 0, 1, 2
VOCAB_SIZE = 13  # 10 symbols
MIN_LEN, MAX_LEN = 3, 8


def reversal_pairs(n: int, seed: int = 0, min_len: int = MIN_LEN, max_len: int = MAX_LEN,
                   vocab_size: int = VOCAB_SIZE):
    """`n` random symbol sequences (lengths min_len..max_len) and their reversals."""
    rng = random.Random(seed)
    src = [[rng.randrange(3, vocab_size) for _ in range(rng.randint(min_len, max_len))]
           for _ in range(n)]
    return src, [s[::-1] for s in src]


def pad_batch(seqs, bos: bool = False, eos: bool = False, length: int | None = None):
    """A LongTensor (N, L) of `seqs`, optionally framed by BOS/EOS, right-padded with PAD."""
    import torch

    rows = [([BOS] if bos else []) + list(s) + ([EOS] if eos else []) for s in seqs]
    width = length if length is not None else max(len(r) for r in rows)
    out = torch.full((len(rows), width), PAD, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, :len(r)] = torch.tensor(r[:width], dtype=torch.long)
    return out

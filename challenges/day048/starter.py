"""Day 48: a sequence-to-sequence model with attention (GRU encoder-decoder).

nn.GRU / nn.GRUCell / nn.Embedding / nn.Linear are allowed; the attention is yours
(no nn.MultiheadAttention, no F.scaled_dot_product_attention).
"""

from torch import nn

from graders.data.translation import BOS, EOS, PAD, pad_batch  # noqa: F401


class Attention(nn.Module):
    """Attention of one query per batch item over a sequence of keys (which are also the
    values), e.g. additive: score_s = vᵀ tanh(W_q q + W_k k_s)."""

    def __init__(self, hidden):
        super().__init__()
        # TODO
        raise NotImplementedError("Attention")

    def forward(self, query, keys, mask):
        """query (B, H), keys (B, S, H), mask (B, S) bool, True = real token.

        Returns (context (B, H), weights (B, S)): weights >= 0 sum to 1 over the real
        positions and are exactly 0 on padding; context = sum_s weights[:, s] * keys[:, s].
        """
        raise NotImplementedError("Attention.forward")


class Seq2Seq(nn.Module):
    """GRU encoder over the source, GRU decoder that attends over the encoder outputs."""

    def __init__(self, vocab_size, hidden=64):
        super().__init__()
        # TODO
        raise NotImplementedError("Seq2Seq")

    def forward(self, src, tgt_in):
        """src (B, S) right-padded with PAD; tgt_in (B, T) starting with BOS.

        Returns (logits (B, T, vocab_size), attention (B, T, S)).
        """
        raise NotImplementedError("Seq2Seq.forward")


def greedy_decode(model, src, max_len):
    """Returns (tokens (B, max_len) int64, attention (B, max_len, S)); tokens exclude BOS,
    include EOS, and are PAD after a row's first EOS."""
    raise NotImplementedError("greedy_decode")


def train_seq2seq(src, tgt, seed=0):
    """Train on pairs of symbol lists (teacher forcing); return the model."""
    raise NotImplementedError("train_seq2seq")

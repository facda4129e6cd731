"""Day 44: a mini encoder-decoder transformer trained on toy translation (reversal).

nn.MultiheadAttention, nn.LayerNorm, nn.Embedding, nn.Linear are allowed;
nn.Transformer and nn.TransformerEncoder/Decoder(Layer) are not.
"""

from torch import nn

from graders.data.translation import BOS, EOS, PAD, pad_batch  # noqa: F401


class Seq2SeqTransformer(nn.Module):
    """Encoder-decoder transformer over token ids (0 PAD, 1 BOS, 2 EOS, 3.. symbols)."""

    def __init__(self, vocab_size, d_model=64, nhead=4, num_layers=2, dim_feedforward=128,
                 max_len=32):
        super().__init__()
        # TODO: token embedding, positional encoding, encoder blocks (self-attention + FF),
        #       decoder blocks (causal self-attention + cross-attention + FF), output layer
        raise NotImplementedError("Seq2SeqTransformer")

    def forward(self, src, tgt_in):
        """src (B, S) int64, right-padded with PAD; tgt_in (B, T) int64 starting with BOS.

        Returns logits (B, T, vocab_size): position t predicts the token after tgt_in[:, t],
        using only tgt_in[:, :t+1] (causal) and the non-PAD source tokens.
        """
        # TODO
        raise NotImplementedError("Seq2SeqTransformer.forward")


def greedy_decode(model, src, max_len):
    """Decode src (B, S) greedily from BOS for up to max_len steps.

    Returns int64 (B, max_len): the generated tokens (BOS not included), EOS included, and
    PAD after a row's first EOS (and to fill rows that stop early).
    """
    # TODO
    raise NotImplementedError("greedy_decode")


def train_translator(src, tgt, seed=0):
    """Train a Seq2SeqTransformer on pairs (src[i] -> tgt[i], lists of symbol ids) and return
    it. Seed torch with `seed`. Teacher forcing: feed BOS + tgt, predict tgt + EOS."""
    # TODO
    raise NotImplementedError("train_translator")

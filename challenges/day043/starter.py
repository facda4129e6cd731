"""Day 43: scaled dot-product attention and multi-head attention, with masks
(no torch.nn.functional.scaled_dot_product_attention, no torch.nn.MultiheadAttention)."""

from torch import nn


def scaled_dot_product_attention(q, k, v, mask=None, causal=False):
    """Attention of queries q (..., Lq, d) over keys k (..., Lk, d) and values v (..., Lk, dv).

    mask: None or a bool tensor broadcastable to (..., Lq, Lk); True = may attend.
    causal: if True, query i may attend only keys 0..i (combined with `mask` if both given).
    Returns (output (..., Lq, dv), weights (..., Lq, Lk)); masked-out weights are exactly 0.
    """
    # TODO: scores = q kᵀ / sqrt(d); fill disallowed scores with -inf; softmax over keys
    raise NotImplementedError("scaled_dot_product_attention")


class MultiHeadAttention(nn.Module):
    """Multi-head attention laid out as torch.nn.MultiheadAttention(batch_first=True).

    Parameters: in_proj_weight (3E, E) holding W_q, W_k, W_v stacked in that order,
    in_proj_bias (3E,), and out_proj = nn.Linear(E, E).
    """

    def __init__(self, embed_dim, num_heads):
        super().__init__()
        # TODO
        raise NotImplementedError("MultiHeadAttention")

    def forward(self, query, key, value, key_padding_mask=None, causal=False):
        """query (B, Lq, E), key and value (B, Lk, E).

        key_padding_mask: None or bool (B, Lk), True = padding (that key is ignored).
        Returns (output (B, Lq, E), weights (B, Lq, Lk) averaged over the heads).
        """
        # TODO: project, split into heads, attend, merge heads, out_proj
        raise NotImplementedError("MultiHeadAttention.forward")

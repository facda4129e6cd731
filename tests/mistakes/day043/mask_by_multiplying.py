# mistake: masks by multiplying the scores by the mask, so masked keys score 0 and keep weight
# expect: masked-out keys get weight
"""Day 43 reference: scaled dot-product attention with masks, and multi-head attention laid
out as torch.nn.MultiheadAttention (batch-first)."""

import math

import torch
from torch import nn


def scaled_dot_product_attention(q, k, v, mask=None, causal=False):
    """softmax(q kᵀ / √d + masking) v, returning (output, weights)."""
    d = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)
    allowed = torch.ones(scores.shape[-2:], dtype=torch.bool, device=q.device)
    if causal:
        allowed = allowed.tril()  # query i sees keys 0..i
    if mask is not None:
        allowed = allowed & mask
    # -inf before the softmax gives exactly zero weight (a large negative number only nearly)
    scores = scores * allowed
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


class MultiHeadAttention(nn.Module):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError("embed_dim must be divisible by num_heads")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim))
        self.out_proj = nn.Linear(embed_dim, embed_dim)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def _heads(self, x):  # (B, L, E) -> (B, heads, L, head_dim)
        B, L, _ = x.shape
        return x.view(B, L, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, query, key, value, key_padding_mask=None, causal=False):
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        b_q, b_k, b_v = self.in_proj_bias.chunk(3)
        q = self._heads(query @ w_q.T + b_q)
        k = self._heads(key @ w_k.T + b_k)
        v = self._heads(value @ w_v.T + b_v)
        mask = None
        if key_padding_mask is not None:  # True marks padding: those keys are not attended
            mask = ~key_padding_mask[:, None, None, :]
        out, weights = scaled_dot_product_attention(q, k, v, mask=mask, causal=causal)
        B, _, Lq, _ = out.shape
        out = out.transpose(1, 2).reshape(B, Lq, self.embed_dim)
        return self.out_proj(out), weights.mean(dim=1)

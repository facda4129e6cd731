"""Day 43 grader: scaled dot-product attention against torch's
scaled_dot_product_attention, multi-head attention against torch.nn.MultiheadAttention
with the same weights, masks (boolean, causal, key padding) included."""

import pytest
import torch
import torch.nn.functional as F

from graders import expect, forbid

TOL = dict(rtol=1e-5, atol=1e-5, oracle="torch")
FORBIDDEN = ["torch.nn.functional.scaled_dot_product_attention", "torch.nn.MultiheadAttention",
             "torch.nn.functional.multi_head_attention_forward",
             "torch._native_multi_head_attention", "torch.nn.Transformer",
             "torch.nn.TransformerEncoderLayer", "torch.nn.TransformerDecoderLayer"]


def test_no_library_attention(solution_dir):
    forbid.assert_not_used(solution_dir, FORBIDDEN, why="write the attention yourself")


def _call_sdpa(solution, *args, **kwargs):
    result = solution.scaled_dot_product_attention(*args, **kwargs)
    assert isinstance(result, tuple) and len(result) == 2, (
        "scaled_dot_product_attention must return the pair (output, weights)")
    return result


@pytest.mark.parametrize("shape", [(1, 1, 4, 4, 8, 8), (2, 3, 5, 7, 16, 4), (3, 1, 6, 6, 1, 2)],
                         ids=["one-query-per-key", "cross-5x7", "d=1"])
def test_sdpa_matches_torch(solution, shape):
    B, H, Lq, Lk, d, dv = shape  # noqa: N806
    g = torch.Generator().manual_seed(sum(shape))
    q, k = torch.randn(B, H, Lq, d, generator=g), torch.randn(B, H, Lk, d, generator=g)
    v = torch.randn(B, H, Lk, dv, generator=g)
    out, weights = _call_sdpa(solution, q, k, v)
    want = F.scaled_dot_product_attention(q, k, v)
    expect.close(weights.sum(-1), torch.ones(B, H, Lq), what="each row of the weights' sum",
                 rtol=0, atol=1e-5, oracle="a softmax over the keys")
    expect.close(out, want, what=f"attention output for q{tuple(q.shape)}, k{tuple(k.shape)}",
                 **TOL)
    expect.close(out, weights @ v, what="output vs your own weights @ v", **TOL)


def test_sdpa_boolean_mask(solution):
    g = torch.Generator().manual_seed(43)
    q, k, v = (torch.randn(2, 5, 8, generator=g) for _ in range(3))
    mask = torch.rand(2, 5, 5, generator=g) > 0.4
    mask[..., 0] = True  # every query sees at least one key
    out, weights = _call_sdpa(solution, q, k, v, mask=mask)
    leaked = weights.detach()[~mask].abs().max().item()
    assert leaked == 0.0, (
        f"masked-out keys get weight up to {leaked:.3g}; they must get exactly 0 "
        "(fill their scores with -inf before the softmax)")
    expect.close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
                 what="attention output with a boolean mask", **TOL)


def test_sdpa_causal(solution):
    g = torch.Generator().manual_seed(44)
    q, k, v = (torch.randn(3, 6, 4, generator=g) for _ in range(3))
    out, weights = _call_sdpa(solution, q, k, v, causal=True)
    future = torch.ones(6, 6, dtype=torch.bool).triu(1)
    assert weights.detach()[:, future].abs().max().item() == 0.0, (
        "with causal=True, query i must give zero weight to keys after i")
    expect.close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True),
                 what="causal attention output", **TOL)
    # causal and an explicit mask together: both apply
    mask = torch.ones(6, 6, dtype=torch.bool)
    mask[:, 0] = False
    mask[0, 0] = True
    out, _ = _call_sdpa(solution, q, k, v, mask=mask, causal=True)
    expect.close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask & ~future),
                 what="attention with causal=True and a mask together", **TOL)


@pytest.mark.parametrize("lq,lk", [(4, 7), (6, 4)], ids=["more-keys", "more-queries"])
def test_sdpa_causal_is_top_left_aligned(solution, lq, lk):
    g = torch.Generator().manual_seed(lq * 10 + lk)
    q, k, v = (torch.randn(2, n, 5, generator=g) for n in (lq, lk, lk))
    out, weights = _call_sdpa(solution, q, k, v, causal=True)
    future = torch.ones(lq, lk, dtype=torch.bool).triu(1)  # key j > query i
    assert tuple(weights.shape) == (2, lq, lk) and (
        weights.detach()[:, future].abs().max().item() == 0.0), (
        f"with causal=True and {lq} queries over {lk} keys, query i must give zero weight to "
        "keys j > i: the mask is aligned top-left (torch's is_causal), not bottom-right")
    expect.close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True),
                 what=f"causal attention of {lq} queries over {lk} keys (top-left aligned)",
                 **TOL)


def _pair(solution, E, H, seed):  # noqa: N803 (embed dim, heads)
    torch.manual_seed(seed)
    ref = torch.nn.MultiheadAttention(E, H, batch_first=True)
    torch.nn.init.normal_(ref.in_proj_bias)  # non-zero biases, so a dropped bias shows
    torch.nn.init.normal_(ref.out_proj.bias)
    mine = solution.MultiHeadAttention(E, H)
    got = {k: tuple(v.shape) for k, v in mine.named_parameters()}
    want = {k: tuple(v.shape) for k, v in ref.named_parameters()}
    assert got == want, (
        f"MultiHeadAttention({E}, {H}) parameters are {got}; the spec asks for {want}")
    mine.load_state_dict(ref.state_dict())
    return mine, ref


def _compare(mine, ref, q, k, v, what, key_padding_mask=None, causal=False):
    attn_mask = None
    if causal:
        attn_mask = torch.ones(q.shape[1], k.shape[1], dtype=torch.bool).triu(1)
    want_out, want_w = ref(q, k, v, key_padding_mask=key_padding_mask, attn_mask=attn_mask)
    result = mine(q, k, v, key_padding_mask=key_padding_mask, causal=causal)
    assert isinstance(result, tuple) and len(result) == 2, (
        "MultiHeadAttention.forward must return (output, weights averaged over heads)")
    got_out, got_w = result
    expect.close(got_out.detach(), want_out.detach(), what=f"{what}: output", **TOL)
    expect.close(got_w.detach(), want_w.detach(), what=f"{what}: weights (mean over heads)", **TOL)


def test_mha_self_attention_matches_torch(solution):
    mine, ref = _pair(solution, 8, 2, 1)
    x = torch.randn(3, 5, 8)
    _compare(mine, ref, x, x, x, "self-attention, 2 heads, L=5")


def test_mha_cross_attention_matches_torch(solution):
    mine, ref = _pair(solution, 12, 3, 2)
    q, kv = torch.randn(2, 4, 12), torch.randn(2, 7, 12)
    _compare(mine, ref, q, kv, kv, "cross-attention, 3 heads, 4 queries over 7 keys")
    k, v = torch.randn(2, 7, 12), torch.randn(2, 7, 12)
    _compare(mine, ref, q, k, v, "attention with distinct query, key and value")


def test_mha_key_padding_mask(solution):
    mine, ref = _pair(solution, 8, 4, 3)
    x = torch.randn(3, 6, 8)
    pad = torch.zeros(3, 6, dtype=torch.bool)
    pad[0, 4:] = True  # the first sequence has 4 real tokens, the second 2, the third 6
    pad[1, 2:] = True
    _compare(mine, ref, x, x, x, "self-attention with key_padding_mask", key_padding_mask=pad)


def test_mha_causal(solution):
    mine, ref = _pair(solution, 8, 2, 4)
    x = torch.randn(2, 5, 8)
    _compare(mine, ref, x, x, x, "causal self-attention", causal=True)


def test_mha_gradients_match_torch(solution):
    mine, ref = _pair(solution, 8, 2, 5)
    x = torch.randn(2, 4, 8)
    ref(x, x, x)[0].pow(2).sum().backward()
    mine(x, x, x)[0].pow(2).sum().backward()
    grads = dict(ref.named_parameters())
    for name, p in mine.named_parameters():
        assert p.grad is not None, f"no gradient reached MultiHeadAttention.{name}"
        expect.close(p.grad, grads[name].grad, what=f"gradient of {name}", **TOL)

# mistake: nn.MultiheadAttention used without batch_first=True on (batch, length, d) tensors
# expect: model(src, tgt_in) failed for src
"""Day 44 reference: a small encoder-decoder transformer (pre-norm blocks on
nn.MultiheadAttention) trained to reverse sequences."""

import math

import torch
from torch import nn

from graders.data.translation import BOS, EOS, PAD, pad_batch


class _Block(nn.Module):
    """Pre-norm block: self-attention, optional cross-attention, feed-forward."""

    def __init__(self, d_model, nhead, dim_feedforward, cross):
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.self_attn = nn.MultiheadAttention(d_model, nhead)
        self.cross = cross
        if cross:
            self.norm2 = nn.LayerNorm(d_model)
            self.cross_attn = nn.MultiheadAttention(d_model, nhead)
        self.norm3 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, dim_feedforward), nn.ReLU(),
                                nn.Linear(dim_feedforward, d_model))

    def forward(self, x, pad_mask, causal_mask=None, memory=None, memory_pad=None):
        h = self.norm1(x)
        x = x + self.self_attn(h, h, h, key_padding_mask=pad_mask, attn_mask=causal_mask,
                               need_weights=False)[0]
        if self.cross:
            h = self.norm2(x)
            x = x + self.cross_attn(h, memory, memory, key_padding_mask=memory_pad,
                                    need_weights=False)[0]
        return x + self.ff(self.norm3(x))


class Seq2SeqTransformer(nn.Module):
    def __init__(self, vocab_size, d_model=32, nhead=4, num_layers=1, dim_feedforward=64,
                 max_len=32):
        super().__init__()
        self.d_model = d_model
        self.embed = nn.Embedding(vocab_size, d_model)
        # fixed sinusoidal positions, added to the scaled token embeddings
        pos = torch.arange(max_len)[:, None]
        freq = torch.exp(-math.log(10000.0) * torch.arange(0, d_model, 2) / d_model)
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
        self.register_buffer("pe", pe)
        self.encoder = nn.ModuleList(_Block(d_model, nhead, dim_feedforward, False)
                                     for _ in range(num_layers))
        self.decoder = nn.ModuleList(_Block(d_model, nhead, dim_feedforward, True)
                                     for _ in range(num_layers))
        self.enc_norm, self.dec_norm = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.out = nn.Linear(d_model, vocab_size)

    def _embed(self, tokens):
        # no sqrt(d_model) factor: with nn.Embedding's N(0, 1) start it would drown the
        # positions, and reversal is all about positions
        return self.embed(tokens) + self.pe[: tokens.shape[1]]

    def encode(self, src):
        src_pad = src == PAD
        x = self._embed(src)
        for block in self.encoder:
            x = block(x, src_pad)
        return self.enc_norm(x), src_pad

    def decode(self, tgt_in, memory, src_pad):
        T = tgt_in.shape[1]
        causal = torch.ones(T, T, dtype=torch.bool, device=tgt_in.device).triu(1)
        x = self._embed(tgt_in)
        for block in self.decoder:
            # no key padding mask here: the causal mask already hides every later position
            x = block(x, None, causal, memory, src_pad)
        return self.out(self.dec_norm(x))

    def forward(self, src, tgt_in):
        memory, src_pad = self.encode(src)
        return self.decode(tgt_in, memory, src_pad)


@torch.no_grad()
def greedy_decode(model, src, max_len):
    """Tokens after BOS, one row per source; PAD after the first EOS."""
    model.eval()
    memory, src_pad = model.encode(src)
    out = torch.full((src.shape[0], 1), BOS, dtype=torch.long)
    done = torch.zeros(src.shape[0], dtype=torch.bool)
    for _ in range(max_len):
        nxt = model.decode(out, memory, src_pad)[:, -1].argmax(-1)
        nxt = nxt.masked_fill(done, PAD)
        out = torch.cat([out, nxt[:, None]], dim=1)
        done |= nxt == EOS
        if done.all():
            break
    result = out[:, 1:]
    if result.shape[1] < max_len:
        fill = result.new_full((len(result), max_len - result.shape[1]), PAD)
        result = torch.cat([result, fill], dim=1)
    return result


def train_translator(src, tgt, seed=0, steps=300, batch=128):
    """Teacher forcing: the decoder reads BOS + target and predicts target + EOS."""
    torch.manual_seed(seed)
    vocab_size = max(max(s) for s in src + tgt) + 1
    model = Seq2SeqTransformer(vocab_size)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 50))
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD)
    n = len(src)
    model.train()
    for _step in range(steps):
        idx = torch.randint(0, n, (batch,)).tolist()
        s = pad_batch([src[i] for i in idx])
        t = pad_batch([tgt[i] for i in idx], bos=True, eos=True)
        logits = model(s, t[:, :-1])
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), t[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
    model.eval()
    return model

# mistake: softmax over the batch axis instead of the source positions
# expect: Attention: the sum of the weights over the source positions
"""Day 48 reference: a GRU encoder-decoder with additive (Bahdanau) attention."""

import torch
from torch import nn

from graders.data.translation import BOS, EOS, PAD, pad_batch


class Attention(nn.Module):
    """score(q, k_s) = vᵀ tanh(W_q q + W_k k_s); weights = softmax over the real positions."""

    def __init__(self, hidden):
        super().__init__()
        self.w_q = nn.Linear(hidden, hidden, bias=False)
        self.w_k = nn.Linear(hidden, hidden)
        self.v = nn.Linear(hidden, 1, bias=False)

    def forward(self, query, keys, mask):
        scores = self.v(torch.tanh(self.w_q(query)[:, None, :] + self.w_k(keys))).squeeze(-1)
        scores = scores.masked_fill(~mask, float("-inf"))  # padding gets exactly 0 weight
        weights = torch.softmax(scores, dim=0)
        context = torch.bmm(weights[:, None, :], keys).squeeze(1)
        return context, weights


class Seq2Seq(nn.Module):
    def __init__(self, vocab_size, hidden=64):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, hidden, padding_idx=PAD)
        self.encoder = nn.GRU(hidden, hidden, batch_first=True)
        self.attention = Attention(hidden)
        self.decoder = nn.GRUCell(2 * hidden, hidden)
        self.out = nn.Linear(2 * hidden, vocab_size)

    def encode(self, src):
        mask = src != PAD
        lengths = mask.sum(1)
        packed = nn.utils.rnn.pack_padded_sequence(self.embed(src), lengths, batch_first=True,
                                                   enforce_sorted=False)
        out, h = self.encoder(packed)  # h: the state after each sequence's last real token
        keys, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True,
                                                   total_length=src.shape[1])
        return keys, mask, h[0]

    def step(self, token, h, keys, mask):
        """One decoder step: attend with the current state, update it, predict."""
        context, weights = self.attention(h, keys, mask)
        h = self.decoder(torch.cat([self.embed(token), context], dim=-1), h)
        logits = self.out(torch.cat([h, context], dim=-1))
        return logits, h, weights

    def forward(self, src, tgt_in):
        keys, mask, h = self.encode(src)
        logits, attn = [], []
        for t in range(tgt_in.shape[1]):
            step_logits, h, weights = self.step(tgt_in[:, t], h, keys, mask)
            logits.append(step_logits)
            attn.append(weights)
        return torch.stack(logits, 1), torch.stack(attn, 1)


@torch.no_grad()
def greedy_decode(model, src, max_len):
    model.eval()
    keys, mask, h = model.encode(src)
    token = torch.full((src.shape[0],), BOS, dtype=torch.long)
    done = torch.zeros(src.shape[0], dtype=torch.bool)
    tokens, attn = [], []
    for _ in range(max_len):
        logits, h, weights = model.step(token, h, keys, mask)
        token = logits.argmax(-1).masked_fill(done, PAD)
        tokens.append(token)
        attn.append(weights)
        done |= token == EOS
    return torch.stack(tokens, 1), torch.stack(attn, 1)


def train_seq2seq(src, tgt, seed=0, steps=300, batch=64):
    torch.manual_seed(seed)
    vocab_size = max(max(s) for s in src + tgt) + 1
    model = Seq2Seq(vocab_size)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD)
    model.train()
    for _step in range(steps):
        idx = torch.randint(0, len(src), (batch,)).tolist()
        s = pad_batch([src[i] for i in idx])
        t = pad_batch([tgt[i] for i in idx], bos=True, eos=True)
        logits, _ = model(s, t[:, :-1])
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), t[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    model.eval()
    return model

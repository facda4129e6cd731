# mistake: GRU reset gate applied to h before the recurrent product (the paper's variant)
# expect: GRUCell(1, 4) differs from torch
"""Day 42 reference: LSTM and GRU cells laid out as PyTorch's, and a word-level LSTM
sentiment classifier."""

import math

import torch
from torch import nn


def _parameters(module, gates, input_size, hidden_size):
    module.weight_ih = nn.Parameter(torch.empty(gates * hidden_size, input_size))
    module.weight_hh = nn.Parameter(torch.empty(gates * hidden_size, hidden_size))
    module.bias_ih = nn.Parameter(torch.empty(gates * hidden_size))
    module.bias_hh = nn.Parameter(torch.empty(gates * hidden_size))
    bound = 1.0 / math.sqrt(hidden_size)
    for p in module.parameters():
        nn.init.uniform_(p, -bound, bound)


class LSTMCell(nn.Module):
    """Gates in PyTorch's order: input i, forget f, candidate g, output o."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        _parameters(self, 4, input_size, hidden_size)

    def forward(self, x, state=None):
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        h, c = state
        gates = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class GRUCell(nn.Module):
    """Gates in PyTorch's order: reset r, update z, candidate n.

    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)): the reset gate scales the recurrent term
    *after* its matrix product and bias, as torch.nn.GRUCell does.
    """

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        _parameters(self, 3, input_size, hidden_size)

    def forward(self, x, h=None):
        if h is None:
            h = x.new_zeros(x.shape[0], self.hidden_size)
        x_r, x_z, x_n = (x @ self.weight_ih.T + self.bias_ih).chunk(3, dim=1)
        h_r, h_z, _ = (h @ self.weight_hh.T + self.bias_hh).chunk(3, dim=1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        W_hn, b_hn = self.weight_hh[2 * self.hidden_size:], self.bias_hh[2 * self.hidden_size:]
        n = torch.tanh(x_n + (r * h) @ W_hn.T + b_hn)
        return (1 - z) * n + z * h


class LSTM(nn.Module):
    """One LSTM layer over time-major input (T, B, I)."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.cell = LSTMCell(input_size, hidden_size)

    def forward(self, x, state=None):
        outputs = []
        for x_t in x:
            state = self.cell(x_t, state)
            outputs.append(state[0])
        return torch.stack(outputs), state


class _Classifier(nn.Module):
    def __init__(self, vocab_size, embed=32, hidden=32):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed, padding_idx=0)
        self.lstm = LSTM(embed, hidden)
        self.head = nn.Linear(hidden, 2)

    def forward(self, ids):  # ids (B, L), left-padded with 0
        _, (h, _) = self.lstm(self.embed(ids).transpose(0, 1))
        return self.head(h)


def train_text_classifier(texts, labels, seed=0):
    """Word-level LSTM; sentences are left-padded so the last step is always a real word."""
    torch.manual_seed(seed)
    vocab = {w: i + 2 for i, w in enumerate(sorted({w for t in texts for w in t.split()}))}

    def encode(batch):
        ids = [[vocab.get(w, 1) for w in t.split()] for t in batch]  # 1: unknown word
        out = torch.zeros(len(ids), max(map(len, ids)), dtype=torch.long)
        for row, seq in zip(out, ids, strict=True):
            row[len(row) - len(seq):] = torch.tensor(seq)
        return out

    X, y = encode(texts), torch.as_tensor(labels)
    model = _Classifier(len(vocab) + 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _epoch in range(8):
        order = torch.randperm(len(X))
        for i in range(0, len(X), 32):
            idx = order[i:i + 32]
            opt.zero_grad()
            nn.functional.cross_entropy(model(X[idx]), y[idx]).backward()
            opt.step()

    @torch.no_grad()
    def predict(new_texts):
        return model(encode(new_texts)).argmax(dim=1)

    return predict

# mistake: every step starts again from h0 instead of the state the previous step computed
# expect: RNN outputs over time differs from torch
"""Day 41 reference: an Elman RNN cell, its unrolled layer, and a sequence classifier."""

import math

import torch
from torch import nn


class RNNCell(nn.Module):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh), laid out as torch.nn.RNNCell."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(hidden_size))
        bound = 1.0 / math.sqrt(hidden_size)  # PyTorch's initialisation
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x, h=None):
        if h is None:
            h = x.new_zeros(x.shape[0], self.hidden_size)
        return torch.tanh(x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh)


class RNN(nn.Module):
    """One RNN layer: the cell applied along the time axis (inputs are (T, B, I))."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.cell = RNNCell(input_size, hidden_size)

    def forward(self, x, h0=None):
        h = h0
        outputs = []
        for x_t in x:  # iterate over time: x[t] is (B, I)
            h = self.cell(x_t, h0)
            outputs.append(h)
        return torch.stack(outputs), h


class SequenceClassifier(nn.Module):
    def __init__(self, hidden_size=16):
        super().__init__()
        self.rnn = RNN(1, hidden_size)
        self.head = nn.Linear(hidden_size, 2)

    def forward(self, x):
        _, h = self.rnn(x.transpose(0, 1))  # (B, T, 1) -> time-major
        return self.head(h)


def train_classifier(X, y, seed=0):
    """Train on X (N, T, 1) float32 and y (N,) int64; return a predict(X) -> (N,) function."""
    torch.manual_seed(seed)
    model = SequenceClassifier()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    for _epoch in range(15):
        order = torch.randperm(len(X))
        for i in range(0, len(X), 64):
            idx = order[i:i + 64]
            opt.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

    @torch.no_grad()
    def predict(X_new):
        return model(X_new).argmax(dim=1)

    return predict

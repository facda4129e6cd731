# mistake: wraps torch.nn.RNNCell instead of writing the recurrence
# expect: the spec forbids torch.nn.RNNCell
import torch
from torch import nn


class RNNCell(nn.RNNCell):
    pass


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.cell = RNNCell(input_size, hidden_size)

    def forward(self, x, h0=None):
        h, outputs = h0, []
        for x_t in x:
            h = self.cell(x_t, h)
            outputs.append(h)
        return torch.stack(outputs), h


def train_classifier(X, y, seed=0):
    torch.manual_seed(seed)
    rnn, head = RNN(1, 16), nn.Linear(16, 2)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=0.01)
    for _ in range(15):
        for i in range(0, len(X), 64):
            opt.zero_grad()
            _, h = rnn(X[i:i + 64].transpose(0, 1))
            loss = nn.functional.cross_entropy(head(h), y[i:i + 64])
            loss.backward()
            opt.step()

    @torch.no_grad()
    def predict(X_new):
        return head(rnn(X_new.transpose(0, 1))[1]).argmax(1)

    return predict

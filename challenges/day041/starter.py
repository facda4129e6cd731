"""Day 41: an RNN cell and sequence training in PyTorch (no torch.nn.RNN / RNNCell)."""

from torch import nn


class RNNCell(nn.Module):
    """One Elman RNN step, h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Parameters (the same names and shapes as torch.nn.RNNCell):
      weight_ih (hidden_size, input_size), weight_hh (hidden_size, hidden_size),
      bias_ih (hidden_size,), bias_hh (hidden_size,).
    """

    def __init__(self, input_size, hidden_size):
        super().__init__()
        # TODO: create the four nn.Parameter tensors and initialise them,
        #       e.g. uniform in [-1/sqrt(hidden_size), 1/sqrt(hidden_size)]
        raise NotImplementedError("RNNCell")

    def forward(self, x, h=None):
        """x: (B, input_size); h: (B, hidden_size) or None (zeros). Returns h' (B, hidden_size)."""
        # TODO
        raise NotImplementedError("RNNCell.forward")


class RNN(nn.Module):
    """One RNN layer: `self.cell` (an RNNCell) applied along time. Inputs are time-major."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        # TODO: self.cell = RNNCell(input_size, hidden_size)
        raise NotImplementedError("RNN")

    def forward(self, x, h0=None):
        """x: (T, B, input_size); h0: (B, hidden_size) or None.

        Returns (outputs, h_T): outputs (T, B, hidden_size) holds the hidden state after
        every step, h_T (B, hidden_size) the last one.
        """
        # TODO: loop over t, feeding each step's hidden state into the next
        raise NotImplementedError("RNN.forward")


def train_classifier(X, y, seed=0):
    """Train a classifier built on your RNN and return predict(X_new) -> (N,) int64 labels.

    X: float32 tensor (N, T, 1) of -1/+1 steps (batch-first!); y: int64 tensor (N,),
    1 where the sum of the steps is positive. Seed torch with `seed`.
    """
    # TODO: model = your RNN + a linear head on the last hidden state; train with Adam
    raise NotImplementedError("train_classifier")

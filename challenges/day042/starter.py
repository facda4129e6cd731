"""Day 42: LSTM and GRU cells, an LSTM layer, and a word-level text classifier
(no torch.nn.LSTM / LSTMCell / GRU / GRUCell)."""

from torch import nn


class LSTMCell(nn.Module):
    """One LSTM step, laid out as torch.nn.LSTMCell.

    Parameters: weight_ih (4H, I), weight_hh (4H, H), bias_ih (4H,), bias_hh (4H,), the four
    row blocks being the gates in PyTorch's order: input i, forget f, candidate g, output o.
    """

    def __init__(self, input_size, hidden_size):
        super().__init__()
        # TODO: create and initialise the four parameters
        raise NotImplementedError("LSTMCell")

    def forward(self, x, state=None):
        """x: (B, I); state: (h, c), each (B, H), or None for zeros. Returns (h', c')."""
        # TODO
        raise NotImplementedError("LSTMCell.forward")


class GRUCell(nn.Module):
    """One GRU step, laid out as torch.nn.GRUCell.

    Parameters: weight_ih (3H, I), weight_hh (3H, H), bias_ih (3H,), bias_hh (3H,); gate
    order reset r, update z, candidate n.
    """

    def __init__(self, input_size, hidden_size):
        super().__init__()
        # TODO
        raise NotImplementedError("GRUCell")

    def forward(self, x, h=None):
        """x: (B, I); h: (B, H) or None for zeros. Returns h' (B, H)."""
        # TODO: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); h' = (1 - z) * n + z * h
        raise NotImplementedError("GRUCell.forward")


class LSTM(nn.Module):
    """One LSTM layer holding an LSTMCell in `self.cell`; input is time-major (T, B, I)."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        # TODO: self.cell = LSTMCell(input_size, hidden_size)
        raise NotImplementedError("LSTM")

    def forward(self, x, state=None):
        """Returns (outputs (T, B, H), (h_T, c_T)); state is (h0, c0) or None."""
        # TODO
        raise NotImplementedError("LSTM.forward")


def train_text_classifier(texts, labels, seed=0):
    """Train a word-level classifier built on your LSTM (or GRU) cell.

    texts: list of str (lower case, words separated by spaces); labels: list of 0/1.
    Returns predict(new_texts) -> (N,) int64 labels (tensor or numpy array).
    """
    # TODO: vocabulary -> ids (padded), embedding -> your LSTM -> linear head; train with Adam
    raise NotImplementedError("train_text_classifier")

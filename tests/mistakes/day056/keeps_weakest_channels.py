# mistake: the channels with the smallest L1 norm are kept instead of the largest
# expect: kept the channels with the smallest L1 norm


import torch
from torch import nn

from graders.data.digits_cnn import DigitsCNN, train


def channel_l1(weight: torch.Tensor) -> torch.Tensor:
    """Importance of each output unit: the L1 norm of everything that produces it."""
    return weight.detach().abs().flatten(1).sum(dim=1)


def _top(weight: torch.Tensor, k: int) -> torch.Tensor:
    # the k largest, back in their original order (the order does not change the function)
    return channel_l1(weight).topk(k, largest=False).indices.sort().values


def prune_channels(model: DigitsCNN, keep: float = 0.5) -> DigitsCNN:
    k1, k2, kh = (max(1, round(keep * n)) for n in (model.c1, model.c2, model.hidden))
    i1, i2, ih = _top(model.conv1.weight, k1), _top(model.conv2.weight, k2), \
        _top(model.fc1.weight, kh)
    small = DigitsCNN(k1, k2, kh)
    # after pooling, conv2 channel c becomes fc1 inputs c*16 .. c*16 + 15 (flatten order)
    cols = (i2[:, None] * 16 + torch.arange(16)).flatten()
    with torch.no_grad():
        small.conv1.weight.copy_(model.conv1.weight[i1])
        small.conv1.bias.copy_(model.conv1.bias[i1])
        small.conv2.weight.copy_(model.conv2.weight[i2][:, i1])  # outputs, then inputs
        small.conv2.bias.copy_(model.conv2.bias[i2])
        small.fc1.weight.copy_(model.fc1.weight[ih][:, cols])
        small.fc1.bias.copy_(model.fc1.bias[ih])
        small.fc2.weight.copy_(model.fc2.weight[:, ih])
        small.fc2.bias.copy_(model.fc2.bias)
    return small.eval()


def finetune(model: nn.Module, x, y, epochs: int = 2, lr: float = 1e-3,
             seed: int = 0) -> nn.Module:
    return train(model, x, y, epochs=epochs, lr=lr, seed=seed)

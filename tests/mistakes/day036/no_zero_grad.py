# mistake: the training loop never zeroes the gradients, so they pile up across batches
# expect: below the threshold


import torch
from torch import nn


def _conv_block(c_in, c_out):
    # no conv bias: the BatchNorm right after it has its own
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]


def build_cnn():
    """32x32 -> 16x16 -> 8x8, then a global max: 'is the pattern anywhere?'"""
    return nn.Sequential(
        *_conv_block(3, 8), nn.MaxPool2d(2),
        *_conv_block(8, 16), nn.MaxPool2d(2),
        *_conv_block(16, 32),
        nn.AdaptiveMaxPool2d(1), nn.Flatten(),
        nn.Linear(32, 10),
    )


def train_cnn(X, y, seed=0):
    torch.manual_seed(seed)
    model = build_cnn()
    X = torch.as_tensor(X, dtype=torch.float32)
    y = torch.as_tensor(y, dtype=torch.int64)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _epoch in range(3):
        for idx in torch.randperm(len(X), generator=generator).split(32):
            loss_fn(model(X[idx]), y[idx]).backward()
            optimizer.step()
    return model

# mistake: the convolutions keep their biases, which the BatchNorm after them makes redundant
# expect: bias-free


import torch
from torch import nn


class BasicBlock(nn.Module):
    """relu(F(x) + shortcut(x)), F = conv3x3(stride)-BN-ReLU-conv3x3-BN."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        if stride != 1 or in_channels != out_channels:
            # the shapes differ: project x with a strided 1x1 convolution
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))  # add first, then the activation


class SmallResNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
            nn.MaxPool2d(2),  # 32x32 -> 16x16 keeps the blocks cheap
        )
        self.blocks = nn.Sequential(
            BasicBlock(8, 8),
            BasicBlock(8, 16, stride=2),
            BasicBlock(16, 32, stride=2),
        )
        self.head = nn.Sequential(nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(32, num_classes))

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


def train_resnet(X, y, seed=0):
    torch.manual_seed(seed)
    model = SmallResNet()
    X = torch.as_tensor(X, dtype=torch.float32)
    y = torch.as_tensor(y, dtype=torch.int64)
    epochs, batch = 4, 32
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    # warm up, then anneal: ends at a small learning rate, so the result does not depend on
    # where the last noisy step happened to land
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=5e-3, total_steps=epochs * -(-len(X) // batch))
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _epoch in range(epochs):
        for idx in torch.randperm(len(X), generator=generator).split(batch):
            optimizer.zero_grad()
            loss_fn(model(X[idx]), y[idx]).backward()
            optimizer.step()
            schedule.step()
    return model

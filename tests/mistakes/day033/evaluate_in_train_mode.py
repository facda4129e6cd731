# mistake: evaluate forgets model.eval(), so dropout stays on while measuring
# expect: eval mode


import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


class ArrayDataset(Dataset):
    """(features, label) pairs from two arrays: float32 features, int64 labels."""

    def __init__(self, X, y):
        self.X = torch.as_tensor(X, dtype=torch.float32)
        self.y = torch.as_tensor(y, dtype=torch.int64)
        if len(self.X) != len(self.y):
            raise ValueError(f"{len(self.X)} samples but {len(self.y)} labels")

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], self.y[i]


def make_loader(dataset, batch_size, shuffle, seed=0):
    # A private generator: the order depends on `seed` only, never on the global RNG,
    # and it advances from epoch to epoch, so each epoch gets a new order.
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)


def train_epoch(model, loader, optimizer, loss_fn):
    model.train()
    total, count = 0.0, 0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)  # weight by batch size: the last batch may be short
        count += len(yb)
    return total / count


@torch.no_grad()
def evaluate(model, loader):
    correct, count = 0, 0
    for xb, yb in loader:
        correct += (model(xb).argmax(dim=1) == yb).sum().item()
        count += len(yb)
    return correct / count


def fit(X, y, seed=0):
    torch.manual_seed(seed)  # the model's initial weights
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    loader = make_loader(ArrayDataset(X, y), batch_size=32, shuffle=True, seed=seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    losses = [train_epoch(model, loader, optimizer, loss_fn) for _ in range(10)]
    return model, losses

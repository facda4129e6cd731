# mistake: a hand-written loader re-seeds its generator at every epoch (same order each time)
# expect: every epoch must draw a new order


import torch
from torch import nn
from torch.utils.data import Dataset


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


class Loader:
    def __init__(self, dataset, batch_size, shuffle, seed):
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.seed = shuffle, seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            order = torch.randperm(n, generator=torch.Generator().manual_seed(self.seed))
        else:
            order = torch.arange(n)
        for start in range(0, n, self.batch_size):
            items = [self.dataset[int(i)] for i in order[start:start + self.batch_size]]
            yield torch.stack([x for x, _ in items]), torch.stack([y for _, y in items])


def make_loader(dataset, batch_size, shuffle, seed=0):
    return Loader(dataset, batch_size, shuffle, seed)


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
    model.eval()
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

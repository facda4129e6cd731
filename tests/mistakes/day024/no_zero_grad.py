# mistake: optimiser.zero_grad() forgotten: gradients pile up across steps
# expect: did not decrease
import numpy as np
import torch
from torch import nn


def pca_reconstruction_error(X_train, X_test, k):
    """Mean squared error per entry of reconstructing X_test from the top-k principal
    components of X_train (centred with X_train's mean)."""
    X_train = np.asarray(X_train, dtype=np.float64)
    X_test = np.asarray(X_test, dtype=np.float64)
    mean = X_train.mean(axis=0)
    _, _, Vt = np.linalg.svd(X_train - mean, full_matrices=False)
    V = Vt[:k].T  # (d, k): orthonormal directions of largest variance
    recon = (X_test - mean) @ V @ V.T + mean
    return float(np.mean((X_test - recon) ** 2))


class LinearAutoencoder(nn.Module):
    """x -> z = W1 x + b1 (k numbers) -> x̂ = W2 z + b2: no non-linearity anywhere."""

    def __init__(self, n_features, k):
        super().__init__()
        self.encoder = nn.Linear(n_features, k)
        self.decoder = nn.Linear(k, n_features)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))


class Autoencoder(nn.Module):
    """A non-linear autoencoder with a k-unit bottleneck."""

    def __init__(self, n_features, k, hidden=128):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(),
                                     nn.Linear(hidden, k))
        self.decoder = nn.Sequential(nn.Linear(k, hidden), nn.ReLU(),
                                     nn.Linear(hidden, n_features))

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))


def train_autoencoder(model, X, epochs=100, lr=1e-2, batch_size=128, seed=0):
    """Minimise the mean squared reconstruction error with Adam; returns per-epoch losses."""
    torch.manual_seed(seed)  # the shuffling order depends only on the seed
    data = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    losses = []
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(data))
        total = 0.0
        for start in range(0, len(data), batch_size):
            batch = data[order[start:start + batch_size]]
            loss = loss_fn(model(batch), batch)
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        losses.append(total / len(data))
    return losses


def reconstruction_error(model, X):
    """Mean squared error per entry of model(X) against X, without tracking gradients."""
    model.eval()
    with torch.no_grad():
        data = torch.as_tensor(np.asarray(X), dtype=torch.float32)
        return float(torch.mean((model(data) - data) ** 2))

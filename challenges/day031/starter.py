"""Day 31: neural-network layers with hand-written forward and backward passes (numpy only).

Every layer caches what its backward pass needs during forward(), and backward(grad_out)
returns the gradient of the loss with respect to the layer's input. Keep everything float64.
"""

import numpy as np  # noqa: F401  (you will need it)


class Linear:
    """y = x @ weight.T + bias  (the layout torch.nn.Linear uses)."""

    def __init__(self, in_features, out_features, rng=None):
        """weight: (out_features, in_features), bias: (out_features,), both float64 and drawn
        from `rng` (a numpy Generator; np.random.default_rng() when None), e.g. uniform in
        [-1/sqrt(in_features), 1/sqrt(in_features)]. grad_weight and grad_bias start as None."""
        # TODO
        raise NotImplementedError("Linear.__init__")

    def forward(self, x):
        """x: (N, in_features) -> (N, out_features). Read self.weight and self.bias here."""
        # TODO: remember x for the backward pass
        raise NotImplementedError("Linear.forward")

    def backward(self, grad_out):
        """grad_out: (N, out_features) -> grad of x, (N, in_features).
        Also sets self.grad_weight (shape of weight) and self.grad_bias (shape of bias)."""
        # TODO
        raise NotImplementedError("Linear.backward")


class ReLU:
    """max(x, 0), elementwise; its derivative at exactly 0 is taken as 0."""

    def forward(self, x):
        # TODO
        raise NotImplementedError("ReLU.forward")

    def backward(self, grad_out):
        # TODO
        raise NotImplementedError("ReLU.backward")


class Sigmoid:
    """1 / (1 + exp(-x)), elementwise."""

    def forward(self, x):
        # TODO
        raise NotImplementedError("Sigmoid.forward")

    def backward(self, grad_out):
        # TODO: the derivative is s * (1 - s), where s is the forward OUTPUT
        raise NotImplementedError("Sigmoid.backward")


class Tanh:
    """tanh(x), elementwise."""

    def forward(self, x):
        # TODO
        raise NotImplementedError("Tanh.forward")

    def backward(self, grad_out):
        # TODO
        raise NotImplementedError("Tanh.backward")


def softmax(z):
    """Row-wise softmax of logits z: (N, C) -> (N, C); each row sums to 1. Stable for huge z."""
    # TODO
    raise NotImplementedError("softmax")


class SoftmaxCrossEntropy:
    """Mean over the batch of -log softmax(logits)[n, targets[n]]."""

    def forward(self, logits, targets):
        """logits: (N, C) float64, targets: (N,) ints in [0, C). Returns the loss as a float."""
        # TODO
        raise NotImplementedError("SoftmaxCrossEntropy.forward")

    def backward(self):
        """The gradient of the mean loss with respect to the logits: (N, C)."""
        # TODO
        raise NotImplementedError("SoftmaxCrossEntropy.backward")

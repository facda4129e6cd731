# mistake: Dense layers built with use_bias=False, unlike nn.Linear
# expect: parameters


import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # must happen before keras is imported

import keras  # noqa: E402
from torch import nn  # noqa: E402

SIZES = [64, 64, 10]


def build_keras_mlp(sizes):
    layers = [keras.Input(shape=(sizes[0],))]
    for n_out in sizes[1:-1]:
        layers.append(keras.layers.Dense(n_out, activation="relu", use_bias=False))
    layers.append(keras.layers.Dense(sizes[-1], use_bias=False))  # logits: the loss applies softmax
    return keras.Sequential(layers)


def build_torch_mlp(sizes):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def train_keras(X, y, seed=0):
    keras.utils.set_random_seed(seed)  # python, numpy and backend seeds in one call
    model = build_keras_mlp(SIZES)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(X.astype("float32"), y, batch_size=32, epochs=15, verbose=0)
    return model

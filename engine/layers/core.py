"""Activation, Dropout and Flatten: the layers without weights."""
from __future__ import annotations

import numpy as np

from .. import activations
from .base import Layer


class Activation(Layer):
    """Applies f to its input: a = f(x); backward: ∂loss/∂x = ∂loss/∂a ⊙ f′(x)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)   # f
        self.x = self.a = None                          # last input and output

    def forward(self, x, training=False):
        self.x, self.a = x, self.activation.forward(x)
        return self.a

    def backward(self, grad, need_input_grad=True, delta=None):
        return delta if delta is not None else self.activation.backward(self.x, self.a, grad)

    def get_config(self):
        return {"name": self.name, "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Inverted dropout while training: a = x ⊙ m, m_ij = 1/(1 − rate) with probability
    1 − rate, else 0 (a seeded mask); identity at inference. Backward: ∂loss/∂x = ∂loss/∂a ⊙ m."""

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(rate) < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)     # probability of dropping a unit
        self.seed = seed            # own seed; otherwise the model's generator is used
        self.rng = None             # np.random.Generator, set at build
        self.mask = None            # m of the last training forward (None at inference)

    def build(self, input_dim, rng, dtype):
        self.rng = np.random.default_rng(self.seed) if self.seed is not None else rng
        self.built = True
        return input_dim

    def forward(self, x, training=False):
        if not training or self.rate == 0.0:
            self.mask = None
            return x
        keep = self.rng.random(x.shape) >= self.rate
        self.mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.rate))
        return x * self.mask

    def backward(self, grad, need_input_grad=True, delta=None):
        return grad if self.mask is None else grad * self.mask

    def get_config(self):
        return {"name": self.name, "rate": self.rate, "seed": self.seed}


class Flatten(Layer):
    """Reshapes each sample to one row (28×28 images → 784 inputs); allowed only before the first Dense."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def forward(self, x, training=False):
        return x.reshape(x.shape[0], -1)

    def backward(self, grad, need_input_grad=True, delta=None):
        return grad

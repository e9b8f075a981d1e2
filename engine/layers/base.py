"""The layer base class: ``build`` once, then ``forward``/``backward`` per batch."""
from __future__ import annotations

import numpy as np


class Layer:
    """Base class: ``build`` once, then ``forward``/``backward`` per batch."""

    trainable = False

    def __init__(self, name: str | None = None, input_dim: int | None = None, input_shape=None):
        self.name = name                      # set by the model when None ("dense_1" ...)
        self.input_dim = _input_dim(input_dim, input_shape)   # only meaningful on the first layer
        self.built = False

    def build(self, input_dim: int, rng: np.random.Generator, dtype) -> int:
        """Create weights for ``input_dim`` inputs; return the output width."""
        self.built = True
        return input_dim

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray, need_input_grad: bool = True, delta=None) -> np.ndarray | None:
        """∂loss/∂input from ∂loss/∂output; a layer with weights also computes their gradients.
        ``delta`` (the fused δ(L) = ∂loss/∂z of the output layer, from the loss) replaces the chain
        rule through the layer's activation."""
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


def _input_dim(input_dim, input_shape) -> int | None:
    """The input width from Keras' ``input_dim=`` or ``input_shape=`` (flattened)."""
    if input_shape is not None:
        if isinstance(input_shape, int):
            return int(input_shape)
        return int(np.prod(input_shape))
    return None if input_dim is None else int(input_dim)

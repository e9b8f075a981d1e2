"""Layers: Dense (z = a·K + b, then a = f(z)), Activation, Dropout and Flatten.

Each layer keeps what its ``forward`` saw and made, and ``backward`` next to it turns
∂loss/∂output into ∂loss/∂input (one row per sample). Dense stores its kernel in Keras'
layout K with shape (inputs, units); the lecture's W(l) is its transpose, ``layer.W``
(shape (units, inputs)), so z = a·Wᵀ + b = a·K + b.
"""
from __future__ import annotations

from .base import Layer
from .core import Activation, Dropout, Flatten
from .dense import Dense

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Layer", "LAYER_CLASSES", "deserialize"]


LAYER_CLASSES = {cls.__name__: cls for cls in (Dense, Activation, Dropout, Flatten)}


def deserialize(config: dict) -> Layer:
    """A layer from ``{"class_name": "Dense", "config": {...}}``."""
    name = config.get("class_name")
    if name not in LAYER_CLASSES:
        raise ValueError(f"Unknown layer {name!r}. Valid layers: {', '.join(LAYER_CLASSES)}")
    return LAYER_CLASSES[name].from_config(dict(config.get("config") or {}))

"""Keras 3 weight regularizers in NumPy: L1, L2 and L1L2 penalties with their gradients.

A regularizer adds ``penalty = reg(W)`` to the cost and ``reg.gradient(W)`` to ∂cost/∂W.
Defaults follow Keras 3: L1(l1=0.01), L2(l2=0.01), L1L2(l1=0.0, l2=0.0) — Keras 3's ``l1_l2``
is the L1L2 class itself, so it has no penalty unless given factors (Keras 2's function had 0.01).
"""
from __future__ import annotations

import math

import numpy as np

from .registry import Registry


def _factor(name: str, value) -> float:
    """``value`` as a float if it is a finite number ≥ 0 (None → 0), else ValueError."""
    value = 0.0 if value is None else value
    if (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0):
        return float(value)
    raise ValueError(f"{name} must be a finite number ≥ 0; got {value!r}")


def _l1_gradient(w: np.ndarray, l1: float) -> np.ndarray:
    """l1·sign(w), with sign(0) = 0 (the subgradient Keras/torch use at 0)."""
    g = np.sign(w)
    g *= l1
    return g


class Regularizer:
    """Base class: ``__call__(w)`` is the penalty (a float), ``gradient(w)`` its derivative."""

    def __call__(self, w: np.ndarray) -> float:
        return 0.0

    def gradient(self, w: np.ndarray) -> np.ndarray:
        """∂penalty/∂w, same shape and dtype as ``w``."""
        return np.zeros_like(w)

    def get_config(self) -> dict:
        """Constructor arguments that rebuild this regularizer."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Regularizer":
        """A new regularizer from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


registry = Registry("regularizer", base=Regularizer)


@registry.register("l1", "L1")
class L1(Regularizer):
    """Lasso penalty: l1·Σ|w|; gradient l1·sign(w) (0 at w = 0)."""

    def __init__(self, l1=0.01):
        self.l1 = _factor("l1", 0.01 if l1 is None else l1)   # weight of Σ|w|

    def __call__(self, w):
        return float(self.l1 * np.abs(w).sum())

    def gradient(self, w):
        return _l1_gradient(w, self.l1)

    def get_config(self):
        return {"l1": self.l1}


@registry.register("l2", "L2")
class L2(Regularizer):
    """Weight-decay penalty: l2·Σw²; gradient 2·l2·w."""

    def __init__(self, l2=0.01):
        self.l2 = _factor("l2", 0.01 if l2 is None else l2)   # weight of Σw²

    def __call__(self, w):
        return float(self.l2 * np.vdot(w, w))

    def gradient(self, w):
        return np.multiply(w, 2.0 * self.l2)

    def get_config(self):
        return {"l2": self.l2}


@registry.register("l1_l2", "l1l2", "L1L2")
class L1L2(Regularizer):
    """Both penalties: l1·Σ|w| + l2·Σw²; gradient l1·sign(w) + 2·l2·w."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor("l1", l1)   # weight of Σ|w|
        self.l2 = _factor("l2", l2)   # weight of Σw²

    def __call__(self, w):
        total = 0.0
        if self.l1:
            total += float(self.l1 * np.abs(w).sum())
        if self.l2:
            total += float(self.l2 * np.vdot(w, w))
        return total

    def gradient(self, w):
        g = _l1_gradient(w, self.l1) if self.l1 else np.zeros_like(w)
        if self.l2:
            g += np.multiply(w, 2.0 * self.l2)
        return g

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


# Keras' lower-case names for the classes, as written in ``kernel_regularizer=regularizers.l2(0.01)``.
l1, l2, l1_l2 = L1, L2, L1L2


def get(identifier, **overrides) -> Regularizer | None:
    """A regularizer from a name ("l2"), dict, instance or class; None stays None."""
    return None if identifier is None else registry.get(identifier, **overrides)


def serialize(regularizer: Regularizer | None) -> dict | None:
    """{"class_name": ..., "config": ...}, which ``deserialize`` turns back into a regularizer."""
    if regularizer is None:
        return None
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def deserialize(config: dict | None) -> Regularizer | None:
    """A regularizer from ``serialize``'s output."""
    return get(config)

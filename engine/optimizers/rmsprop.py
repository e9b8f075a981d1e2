"""RMSprop (momentum, centered), as Keras 3."""
from __future__ import annotations

import math

import numpy as np

from .base import _EPSILON, _MOMENTUM, _RHO, Optimizer, _check_float, registry


@registry.register("rmsprop", "RMSprop")
class RMSprop(Optimizer):
    """RMSprop, as Keras 3 (lr = lr_t; all slots start at 0):

    v ← ρ·v + (1 − ρ)·g²
    centered:  ḡ ← ρ·ḡ + (1 − ρ)·g;  D = v − ḡ² + ε     otherwise D = v + ε
    Δ = lr·g / √D
    momentum μ > 0:  m ← μ·m + Δ;  W ← W − m            otherwise W ← W − Δ
    """

    _HYPER = {
        "rho": _RHO,
        "momentum": _MOMENTUM,
        "epsilon": _EPSILON,
        "centered": (None, None, "bool", "Divide by the gradient's variance instead of its mean square."),
    }

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 decay=0.0, name=None, **kwargs):
        super().__init__(learning_rate, decay, name, **kwargs)
        self.rho = _check_float("rho", rho, 0.0, 1.0)                    # ρ, mean-square decay
        self.momentum = _check_float("momentum", momentum, 0.0, 1.0)     # μ, velocity kept
        self.epsilon = _check_float("epsilon", epsilon, 0.0, math.inf, open_low=True)   # ε, denominator pad
        self.centered = bool(centered)                                   # subtract the mean²

    def _slot_init(self):
        names = ["velocity"] + ["momentum"] * bool(self.momentum) + ["average_gradient"] * self.centered
        return dict.fromkeys(names, 0.0)

    def update(self, w, g, s, lr):
        rho, v = self.rho, s.velocity
        v *= rho
        v += (1 - rho) * (g * g)                         # v ← ρ·v + (1 − ρ)·g²
        if self.centered:
            mean_g = s.average_gradient
            mean_g *= rho
            mean_g += (1 - rho) * g                      # ḡ ← ρ·ḡ + (1 − ρ)·g
            denominator = v - mean_g * mean_g + self.epsilon     # D = v − ḡ² + ε
        else:
            denominator = v + self.epsilon               # D = v + ε
        increment = lr * g / np.sqrt(denominator)        # Δ = lr·g / √D
        if self.momentum:
            m = s.momentum
            m *= self.momentum
            m += increment                               # m ← μ·m + Δ
            w -= m                                       # W ← W − m
        else:
            w -= increment                               # W ← W − Δ

"""Adadelta, as Keras 3."""
from __future__ import annotations

import math

import numpy as np

from .base import _EPSILON, _RHO, Optimizer, _check_float, registry


@registry.register("adadelta", "Adadelta")
class Adadelta(Optimizer):
    """Adadelta, as Keras 3 (lr = lr_t; G and D start at 0):

    G ← ρ·G + (1 − ρ)·g²
    δ = −√(D + ε)·g / √(G + ε)
    D ← ρ·D + (1 − ρ)·δ²
    W ← W + lr·δ
    """

    _HYPER = {"rho": _RHO, "epsilon": _EPSILON}

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, decay=0.0, name=None, **kwargs):
        super().__init__(learning_rate, decay, name, **kwargs)
        self.rho = _check_float("rho", rho, 0.0, 1.0)                    # ρ, running-mean decay
        self.epsilon = _check_float("epsilon", epsilon, 0.0, math.inf, open_low=True)   # ε, pad under the roots

    def _slot_init(self):
        return {"accumulated_grad": 0.0, "accumulated_delta_var": 0.0}

    def update(self, w, g, s, lr):
        rho, eps = self.rho, self.epsilon
        G, D = s.accumulated_grad, s.accumulated_delta_var
        G *= rho
        G += (1 - rho) * (g * g)                                 # G ← ρ·G + (1 − ρ)·g²
        delta = -(np.sqrt(D + eps) * g / np.sqrt(G + eps))       # δ = −√(D + ε)·g / √(G + ε)
        D *= rho
        D += (1 - rho) * (delta * delta)                         # D ← ρ·D + (1 − ρ)·δ²
        w += lr * delta                                          # W ← W + lr·δ

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

    def _coefficients(self, lr, dt):
        return lr, self.rho, 1 - self.rho, self.epsilon

    def _update(self, p, g, row, c):
        lr, rho, one_rho, eps = c
        acc_g, acc_d = row["accumulated_grad"], row["accumulated_delta_var"]
        buf, buf1 = row["_buf0"], row["_buf1"]
        np.multiply(acc_g, rho, out=acc_g)
        np.add(acc_g, np.multiply(np.multiply(g, g, out=buf), one_rho, out=buf), out=acc_g)
        np.multiply(np.sqrt(np.add(acc_d, eps, out=buf), out=buf), g, out=buf)
        np.sqrt(np.add(acc_g, eps, out=buf1), out=buf1)
        delta = np.negative(np.divide(buf, buf1, out=buf), out=buf)
        np.multiply(acc_d, rho, out=acc_d)
        np.add(acc_d, np.multiply(np.multiply(delta, delta, out=buf1), one_rho, out=buf1), out=acc_d)
        np.add(p, np.multiply(delta, lr, out=delta), out=p)

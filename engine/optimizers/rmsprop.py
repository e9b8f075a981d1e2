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

    def _coefficients(self, lr, dt):
        return lr, self.rho, 1 - self.rho, self.momentum, self.epsilon

    def _update(self, p, g, row, c):
        lr, rho, one_rho, mu, eps = c
        v, buf, buf1 = row["velocity"], row["_buf0"], row["_buf1"]
        np.multiply(v, rho, out=v)
        np.add(v, np.multiply(np.multiply(g, g, out=buf), one_rho, out=buf), out=v)
        if self.centered:
            ag = row["average_gradient"]
            np.multiply(ag, rho, out=ag)
            np.add(ag, np.multiply(g, one_rho, out=buf), out=ag)
            np.subtract(v, np.multiply(ag, ag, out=buf), out=buf)
            np.add(buf, eps, out=buf)
        else:
            np.add(v, eps, out=buf)
        np.sqrt(buf, out=buf)
        step = np.divide(np.multiply(g, lr, out=buf1), buf, out=buf1)
        if mu:
            m = row["momentum"]
            step = np.add(np.multiply(m, mu, out=m), step, out=m)
        np.subtract(p, step, out=p)

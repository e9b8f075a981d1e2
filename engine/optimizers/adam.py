"""Adam (with AMSGrad), as Keras 3."""
from __future__ import annotations

import math

import numpy as np

from .base import _EPSILON, Optimizer, _check_float, registry


@registry.register("adam", "Adam")
class Adam(Optimizer):
    """Adam, as Keras 3. With t = iterations + 1 and lr = lr_t:

    α = lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ)        (computed in the weight's dtype, as Keras does)
    m ← m + (g − m)(1 − β₁);  v ← v + (g² − v)(1 − β₂)
    AMSGrad: v̂ ← max(v̂, v), used instead of v below
    W ← W − α·m / (√v + ε)
    """

    _HYPER = {
        "beta_1": (0.0, 0.999999, "float", "β₁: decay rate of the running mean of gradients."),
        "beta_2": (0.0, 0.999999, "float", "β₂: decay rate of the running mean of squared gradients."),
        "epsilon": _EPSILON,
        "amsgrad": (None, None, "bool", "AMSGrad: divide by the largest v seen so far."),
    }

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 decay=0.0, name=None, **kwargs):
        super().__init__(learning_rate, decay, name, **kwargs)
        self.beta_1 = _check_float("beta_1", beta_1, 0.0, 1.0, open_high=True)   # β₁, first moment
        self.beta_2 = _check_float("beta_2", beta_2, 0.0, 1.0, open_high=True)   # β₂, second moment
        self.epsilon = _check_float("epsilon", epsilon, 0.0, math.inf, open_low=True)           # ε, denominator pad
        self.amsgrad = bool(amsgrad)                                              # keep max of v

    def _slot_init(self):
        return dict.fromkeys(("m", "v", "v_hat") if self.amsgrad else ("m", "v"), 0.0)

    def _coefficients(self, lr, dt):
        t = dt(self.iterations + 1)
        alpha = dt(lr) * np.sqrt(1 - dt(self.beta_2) ** t) / (1 - dt(self.beta_1) ** t)
        return 1 - self.beta_1, 1 - self.beta_2, alpha, self.epsilon

    def _update(self, p, g, row, c):
        one_b1, one_b2, alpha, eps = c
        m, v, buf, buf1 = row["m"], row["v"], row["_buf0"], row["_buf1"]
        np.subtract(g, m, out=buf)
        np.add(m, np.multiply(buf, one_b1, out=buf), out=m)
        np.subtract(np.multiply(g, g, out=buf), v, out=buf)
        np.add(v, np.multiply(buf, one_b2, out=buf), out=v)
        if self.amsgrad:
            v = np.maximum(row["v_hat"], v, out=row["v_hat"])
        np.add(np.sqrt(v, out=buf), eps, out=buf)
        np.divide(np.multiply(m, alpha, out=buf1), buf, out=buf1)
        np.subtract(p, buf1, out=p)

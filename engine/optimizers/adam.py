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

    def update(self, w, g, s, lr):
        dt = w.dtype.type                                # Keras casts t, β₁, β₂ and lr to the weight's dtype
        t = dt(self.iterations + 1)
        alpha = dt(lr) * np.sqrt(1 - dt(self.beta_2) ** t) / (1 - dt(self.beta_1) ** t)
        s.m += (g - s.m) * (1 - self.beta_1)             # m ← m + (g − m)(1 − β₁)
        s.v += (g * g - s.v) * (1 - self.beta_2)         # v ← v + (g² − v)(1 − β₂)
        v = s.v
        if self.amsgrad:
            v = np.maximum(s.v_hat, s.v, out=s.v_hat)    # v̂ ← max(v̂, v)
        w -= s.m * alpha / (np.sqrt(v) + self.epsilon)   # W ← W − α·m / (√v + ε)

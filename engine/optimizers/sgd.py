"""SGD: stochastic gradient descent with (Nesterov) momentum and Keras 2 decay."""
from __future__ import annotations

import numpy as np

from .base import _MOMENTUM, Optimizer, _check_float, registry


@registry.register("sgd", "SGD")
class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, as Keras 3 (lr = lr_t):

    momentum = 0:   W ← W − lr·g
    momentum μ:     m ← μ·m − lr·g;  W ← W + m            (m starts at 0)
    Nesterov:       m ← μ·m − lr·g;  W ← W + μ·m − lr·g
    """

    _HYPER = {
        "momentum": _MOMENTUM,
        "nesterov": (None, None, "bool", "Nesterov look-ahead: step by μ·m − lr·g instead of m."),
    }
    _SCRATCH = 1

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, decay=0.0, name=None, **kwargs):
        super().__init__(learning_rate, decay, name, **kwargs)
        self.momentum = _check_float("momentum", momentum, 0.0, 1.0)   # μ, the velocity kept
        self.nesterov = bool(nesterov)                                  # use the look-ahead step

    def plain_rate(self):
        """lr_t without momentum (W ← W − lr·g), else None; None too for a subclass that changes
        the update (its own _update, _coefficients or apply), whose rule this cannot know."""
        cls = type(self)
        if self.momentum or cls._update is not SGD._update or cls._coefficients is not SGD._coefficients \
                or cls.apply is not Optimizer.apply or cls.apply_scaled is not Optimizer.apply_scaled:
            return None
        return self.current_learning_rate()

    def _slot_init(self):
        return {"momentum": 0.0} if self.momentum else {}

    def _coefficients(self, lr, dt):
        return lr, self.momentum

    def _update(self, p, g, row, c):
        lr, mu = c
        buf = np.multiply(g, lr, out=row["_buf0"])          # lr·g
        if not mu:
            np.subtract(p, buf, out=p)
            return
        m = row["momentum"]
        np.multiply(m, mu, out=m)
        np.subtract(m, buf, out=m)                           # m = μ·m − lr·g
        if self.nesterov:
            np.subtract(p, buf, out=p)
            np.add(p, np.multiply(m, mu, out=buf), out=p)    # W += μ·m − lr·g
        else:
            np.add(p, m, out=p)

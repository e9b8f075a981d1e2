"""SGD: stochastic gradient descent with (Nesterov) momentum and Keras 2 decay."""
from __future__ import annotations

from .base import _MOMENTUM, Optimizer, _check_float, registry


@registry.register("sgd", "SGD")
class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, as Keras 3 (η = lr_t,
    g = ∂cost/∂W):

    momentum = 0:   W ← W − η·g
    momentum μ:     m ← μ·m − η·g;  W ← W + m            (m starts at 0)
    Nesterov:       m ← μ·m − η·g;  W ← W + μ·m − η·g
    """

    _HYPER = {
        "momentum": _MOMENTUM,
        "nesterov": (None, None, "bool", "Nesterov look-ahead: step by μ·m − lr·g instead of m."),
    }

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, decay=0.0, name=None, **kwargs):
        super().__init__(learning_rate, decay, name, **kwargs)
        self.momentum = _check_float("momentum", momentum, 0.0, 1.0)   # μ, the velocity kept
        self.nesterov = bool(nesterov)                                  # use the look-ahead step

    def _slot_init(self):
        return {"momentum": 0.0} if self.momentum else {}

    def update(self, w, g, s, lr):
        mu = self.momentum
        if not mu:
            w -= lr * g                          # W ← W − η·g
            return
        m = s.momentum
        m *= mu
        m -= g * lr                              # m ← μ·m − η·g
        if self.nesterov:
            w += m * mu - g * lr                 # W ← W + μ·m − η·g
        else:
            w += m                               # W ← W + m

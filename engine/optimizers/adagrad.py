"""Adagrad, as Keras 3."""
from __future__ import annotations

import math

import numpy as np

from .base import _EPSILON, Optimizer, _check_float, registry


@registry.register("adagrad", "Adagrad")
class Adagrad(Optimizer):
    """Adagrad, as Keras 3 (lr = lr_t; the accumulator A starts at initial_accumulator_value):

    A ← A + g²;  W ← W − lr·g / √(A + ε)
    """

    _HYPER = {
        "initial_accumulator_value": (0.0, 10.0, "float", "Starting value of the sum of squared gradients."),
        "epsilon": _EPSILON,
    }

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, decay=0.0,
                 name=None, **kwargs):
        super().__init__(learning_rate, decay, name, **kwargs)
        self.initial_accumulator_value = _check_float(                 # A at the first update
            "initial_accumulator_value", initial_accumulator_value, 0.0, math.inf)
        self.epsilon = _check_float("epsilon", epsilon, 0.0, math.inf, open_low=True)  # ε, denominator pad

    def _slot_init(self):
        return {"accumulator": self.initial_accumulator_value}

    def update(self, w, g, s, lr):
        s.accumulator += g * g                                       # A ← A + g²
        w -= lr * g / np.sqrt(s.accumulator + self.epsilon)          # W ← W − lr·g / √(A + ε)

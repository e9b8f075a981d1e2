"""Adam's rule on the packed vectors, written into two kept scratch vectors.

``Adam.update`` (engine/optimizers/adam.py) writes the rule as its formula, which makes about ten
temporary arrays the size of all the weights at every update; this is that rule with exactly the
same floating-point operations, in the same order and in the same dtype, written with ``out=``
into two vectors kept from update to update, so its numbers are Adam.update's bit for bit
(tests/engine/test_two_paths.py, tests/engine/test_fast_rules.py). Each line below is the line of
Adam.update it replaces.
"""
from __future__ import annotations

import numpy as np

from ..optimizers import Adam


def kept_rule(optimizer):
    """The rule below if ``optimizer`` updates with Adam.update itself (a subclass with an ``update``
    of its own keeps its own) and its β₁, β₂, ε are Python floats, else None."""
    return adam_update if type(optimizer).update is Adam.update and \
        python_floats(optimizer, "beta_1", "beta_2", "epsilon") else None


def python_floats(optimizer, *names: str) -> bool:
    """Whether the named hyperparameters are Python floats, as the constructors make them. A NumPy
    scalar (one set later, say) takes part in NumPy's type promotion: then ``(g − m)·(1 − β₁)`` is
    rounded in float64 first, and only the optimizer's own expressions give its numbers."""
    return all(type(getattr(optimizer, name)) is float for name in names)


class Scratch:
    """Two scratch vectors the size of the flat weights, made on first use."""

    def __init__(self):
        self.arrays: tuple[np.ndarray, np.ndarray] | None = None

    def get(self, like: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        arrays = self.arrays
        if arrays is None or arrays[0].shape != like.shape or arrays[0].dtype != like.dtype:
            arrays = self.arrays = (np.empty_like(like), np.empty_like(like))
        return arrays


def adam_update(opt: Adam, w: np.ndarray, g: np.ndarray, s, lr: float, scratch: Scratch,
                into: bool = False) -> np.ndarray | None:
    """Adam.update(w, g, s, lr), its temporaries written into ``scratch``'s two vectors a and b;
    ``into``: W left as it is and the new W returned in b (engine/fast/writes.py)."""
    dt = w.dtype.type
    t = dt(opt.iterations + 1)
    alpha = dt(lr) * np.sqrt(1 - dt(opt.beta_2) ** t) / (1 - dt(opt.beta_1) ** t)
    a, b = scratch.get(w)
    m = s.m
    np.subtract(g, m, out=a)                 # s.m += (g - s.m) * (1 - self.beta_1)
    a *= 1 - opt.beta_1
    m += a
    v = s.v
    np.multiply(g, g, out=a)                 # s.v += (g * g - s.v) * (1 - self.beta_2)
    a -= v
    a *= 1 - opt.beta_2
    v += a
    if opt.amsgrad:
        v = np.maximum(s.v_hat, s.v, out=s.v_hat)
    np.sqrt(v, out=a)                        # w -= s.m * alpha / (np.sqrt(v) + self.epsilon)
    a += opt.epsilon
    np.multiply(m, alpha, out=b)
    b /= a
    if into:
        return np.subtract(w, b, out=b)
    w -= b
    return None

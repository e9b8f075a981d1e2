"""The live gradient check: a model's ∂cost/∂W(l) and ∂cost/∂b(l) on one batch against central finite
differences, computed on a float64 copy so that the model itself is never touched.

For each checked weight w:

    numeric   = (cost(w + h) − cost(w − h)) / 2h                   (float64)
    error     = |analytic − numeric| / max(|analytic| + |numeric|, FLOOR)

as engine/gradcheck.py's ``gradient_check`` does (FLOOR = 1e-4: a gradient near 0 is judged by its
absolute error). The cost is the batch mean of loss_i plus the regularisers' penalty, at inference
(dropout off), so it is a deterministic function of the weights.

The copy: the same layers and loss, the model's weights converted to float64 (exactly), its own
generators and a plain optimizer; the model's weights, trace, phase, optimizer state and random
generators stay as they were. Its analytic gradients come from ``make_step(copy)`` (ReferenceStep, or
engine/planted_bugs.py's PlantedStep for a session with a planted bug).

Kinks: ReLU (and leaky ReLU) has no derivative at z = 0. When w ± h moves some z of a ReLU layer across
0, the difference quotient is not a derivative there and its error says nothing about the backward
pass; such entries are marked (``kink``), found by comparing the signs of those z at w + h and w − h.

Speed (MNIST: a sample of the weights): moving one entry w = W(l)[i, j] by ±h moves only column i of
z(l+1) = a(l)·W(l)ᵀ + b(l), by ±h·a(l)[:, j] (b(l)[i]: by ±h), so cost(w ± h) is the forward from
z(l+1) on — the same number a full forward gives, without redoing the layers below, which do not change.
"""
from __future__ import annotations

import numpy as np

from .gradcheck import FLOOR
from .layers import Activation, Dense
from .saving import model_config, model_from_config
from .step import ReferenceStep, mean_loss

KINKED = ("relu", "leaky_relu")       # activations with a corner at z = 0

__all__ = ["FLOOR", "check_batch", "float64_copy", "relative_errors"]


def float64_copy(model, make_step=None):
    """A float64 Sequential with ``model``'s layers, loss and weights; ``make_step(copy)`` is its
    stepper (ReferenceStep when None). Nothing of ``model`` changes."""
    config = model_config(model)
    config["dtype"] = "float64"
    config["compile"] = None
    copy = model_from_config(config)
    copy.compile(optimizer="sgd", loss=model.loss.name)
    copy.set_weights(model.get_weights())
    copy.stepper = make_step(copy) if make_step is not None else ReferenceStep(copy)
    return copy


def relative_errors(analytic: np.ndarray, numeric: np.ndarray) -> np.ndarray:
    """|analytic − numeric| / max(|analytic| + |numeric|, FLOOR), entry by entry."""
    return np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), FLOOR)


def check_batch(model, x, y, layers=None, max_weights: int = 64, h: float = 1e-5, seed: int = 0,
                make_step=None) -> list[dict]:
    """Per layer l in ``layers`` (all when None): the entries of W(l) (shape (units of l+1, units of l))
    and b(l) checked — ``max_weights`` of each, drawn with a Generator seeded by ``seed``, or all when
    fewer — with their analytic and numeric ∂cost/∂w and relative errors."""
    copy = float64_copy(model, make_step)
    x, y = copy.prepare_x(x), copy.prepare_y(y, np.asarray(x).shape[0])
    copy.forward(x, y, training=False)
    copy.backward()
    used = getattr(copy.stepper, "gradients_used", None)    # what a planted step's update descends along
    rng = np.random.default_rng(seed)
    inputs = _inputs_of_each_layer(copy, x)
    report = []
    for number, dense in enumerate(copy.dense_layers, start=1):
        if layers is not None and number not in layers:
            continue
        d_kernel, d_bias = used(number) if used is not None else (dense.d_kernel, dense.d_bias)
        probe = _Probe(copy, number, inputs[number - 1], y)
        entry = {"index": number,
                 "W": _check_W(probe, dense, d_kernel.T, max_weights, h, rng)}
        if dense.use_bias:
            entry["b"] = _check_b(probe, dense, d_bias, max_weights, h, rng)
        entry["max_relative_error"] = max(part["max_relative_error"] for key, part in entry.items()
                                          if key in ("W", "b"))
        report.append(entry)
    return report


def _inputs_of_each_layer(copy, x) -> list[np.ndarray]:
    """a(l) for each Dense layer l at inference (its trace's a_in: dropout was off)."""
    return [entry.a_in for entry in copy.trace.layers]


class _Probe:
    """cost as a function of z(l+1) alone: the forward from layer l+1 on, the loss and the penalty."""

    def __init__(self, copy, number: int, a_in: np.ndarray, y: np.ndarray):
        self.copy, self.number, self.a_in, self.y = copy, number, a_in, y
        groups = copy.groups()
        self.dense, self.rest = groups[number - 1]
        self.above = groups[number:]
        self.z = a_in @ self.dense.kernel + (self.dense.bias if self.dense.use_bias else 0.0)
        self.other_penalty = copy.penalty() - self.dense.penalty()

    def cost(self, z: np.ndarray) -> tuple[float, list]:
        """mean loss_i(y, ŷ) + penalty, with ŷ the forward from this z(l+1) (dense's weights as they are
        now); and the signs of every z that a ReLU takes (to find kinks)."""
        signs = []
        a = self._through(self.dense, self.rest, z, signs)
        for dense, rest in self.above:
            z_next = a @ dense.kernel + dense.bias if dense.use_bias else a @ dense.kernel
            a = self._through(dense, rest, z_next, signs)
        return mean_loss(self.copy.loss.per_sample(self.y, a)) + self.other_penalty + self.dense.penalty(), signs

    @staticmethod
    def _through(dense, rest, z, signs: list) -> np.ndarray:
        if dense.activation.name in KINKED:
            signs.append(z > 0)
        return _after(dense, rest, z)

    def numeric(self, shift, unit: int, param: np.ndarray, position: tuple, h: float) -> tuple[float, bool]:
        """(cost(w + h) − cost(w − h)) / 2h for w = param[position], which moves z[:, unit] by ±h·shift;
        and whether a ReLU's z crossed 0 between w − h and w + h (a kink)."""
        saved = param[position]
        costs, signs = [], []
        for sign in (1.0, -1.0):
            param[position] = saved + sign * h                 # for the penalty
            z = self.z.copy()
            z[:, unit] += sign * h * shift
            cost, relu_signs = self.cost(z)
            costs.append(cost)
            signs.append(relu_signs)
        param[position] = saved
        kink = any(not np.array_equal(p, m) for p, m in zip(*signs))
        return (costs[0] - costs[1]) / (2 * h), kink


def _after(dense: Dense, rest: list, z: np.ndarray) -> np.ndarray:
    """a(l+1) = f(z(l+1)), then the Activation layers after the Dense (Dropout: identity at inference)."""
    a = dense.activation.forward(z.copy())
    for layer in rest:
        if isinstance(layer, Activation):
            a = layer.activation.forward(a)
    return a


def _sample(size: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """All positions 0..size−1, or ``count`` of them drawn without replacement, in order."""
    if size <= count:
        return np.arange(size)
    return np.sort(rng.choice(size, count, replace=False))


def _check_W(probe: _Probe, dense: Dense, dW: np.ndarray, max_weights: int, h: float, rng) -> dict:
    units, inputs = dW.shape                                   # W(l): (units of l+1, units of l)
    positions = _sample(units * inputs, max_weights, rng)
    indices = [(int(p // inputs), int(p % inputs)) for p in positions]
    analytic = np.array([dW[i, j] for i, j in indices])
    numeric = [probe.numeric(probe.a_in[:, j], i, dense.kernel, (j, i), h) for i, j in indices]
    return _part([units, inputs], [list(ij) for ij in indices], analytic, numeric)


def _check_b(probe: _Probe, dense: Dense, db: np.ndarray, max_weights: int, h: float, rng) -> dict:
    positions = _sample(db.size, max_weights, rng)
    analytic = db[positions].astype(np.float64)
    numeric = [probe.numeric(1.0, int(i), dense.bias, (int(i),), h) for i in positions]
    return _part([int(db.size)], [[int(i)] for i in positions], analytic, numeric)


def _part(shape, indices, analytic, numeric_and_kinks) -> dict:
    """One array's entries; ``max_relative_error`` over all of them, ``smooth_max_relative_error`` over
    those off a kink (None when every one is on a kink)."""
    numeric = np.array([n for n, _ in numeric_and_kinks], dtype=np.float64)
    kink = np.array([k for _, k in numeric_and_kinks], dtype=bool)
    errors = relative_errors(analytic, numeric)
    smooth = errors[~kink]
    return {"shape": shape, "indices": indices, "analytic": analytic, "numeric": numeric,
            "relative_error": errors, "kink": kink, "kinks": int(kink.sum()),
            "max_relative_error": float(np.max(errors)) if errors.size else 0.0,
            "smooth_max_relative_error": float(np.max(smooth)) if smooth.size else None,
            "checked": len(indices), "total": int(np.prod(shape))}

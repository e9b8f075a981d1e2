"""Gradient checking: every analytic ∂cost/∂W and ∂cost/∂b against central finite differences.

For each weight w: numeric = (cost(w + h) − cost(w − h)) / 2h, in float64, and the relative
error |analytic − numeric| / max(|analytic| + |numeric|, tiny). Dropout is switched off so
the cost is a deterministic function of the weights. Denominators are floored at
``FLOOR`` = 1e-4, so a gradient near zero is judged by its absolute error instead (finite
differences in float64 are only good to about 1e-10 absolute).
"""
from __future__ import annotations

import numpy as np

from .trace import Phase

FLOOR = 1e-4


def _cost(model, x, y) -> float:
    trace = model.forward(x, y, training=False)
    return trace.loss


def gradient_check(model, x, y, h: float = 1e-5, max_checks_per_param: int | None = None,
                   rng: np.random.Generator | None = None) -> dict:
    """Worst relative error per Dense layer: ``{"W(1)": 3e-9, "b(1)": 1e-10, ..., "worst": ...}``.

    The model must be float64 (``Sequential(dtype="float64")``) for the errors to mean anything.
    ``max_checks_per_param`` samples that many entries of each array (all when None).
    """
    if model.dtype != np.float64:
        raise ValueError("gradient_check needs a float64 model: Sequential(..., dtype='float64')")
    rng = rng or np.random.default_rng(0)
    model.forward(x, y, training=False)
    model.backward()
    analytic = {}
    for number, dense in enumerate(model.dense_layers, start=1):
        analytic[f"W({number})"] = (dense.kernel, dense.d_kernel.copy())
        if dense.use_bias:
            analytic[f"b({number})"] = (dense.bias, dense.d_bias.copy())
    report = {}
    for label, (param, grad) in analytic.items():
        flat = param.reshape(-1)
        positions = np.arange(flat.size)
        if max_checks_per_param is not None and flat.size > max_checks_per_param:
            positions = rng.choice(flat.size, max_checks_per_param, replace=False)
        worst = 0.0
        for i in positions:
            saved = flat[i]
            flat[i] = saved + h
            plus = _cost(model, x, y)
            flat[i] = saved - h
            minus = _cost(model, x, y)
            flat[i] = saved
            numeric = (plus - minus) / (2 * h)
            exact = grad.reshape(-1)[i]
            worst = max(worst, abs(exact - numeric) / max(abs(exact) + abs(numeric), FLOOR))
        report[label] = float(worst)
    report["worst"] = max(report.values())
    model.phase, model.trace = Phase.READY, None
    return report

"""How training is going, said in words with the numbers (engine/diagnostics.py finds the signs):
a rising or oscillating loss, saturated or dead units, and a learning rate to try instead."""
from __future__ import annotations

import numpy as np

from engine.activations import overflow_ignored
from engine.diagnostics import EDGE, SHARE, UNITS_SHARE, WINDOW, loss_trend, unit_health

from .postmortem import _suggested_rate
from .tensors import finite

SAMPLE = 512         # training rows the units are looked at on


def report(session, suggest: bool = True) -> dict:
    """{"loss": the trend, "units": per layer, "warnings": [{"kind", "message"}], "learning_rate",
    "suggested_learning_rate" (a range test from the current weights when anything is wrong)}."""
    lr = float(session.model.optimizer.current_learning_rate())
    trend = loss_trend(session.history["batch_loss"])
    warnings = []
    if trend["rising"]:
        warnings.append({"kind": "rising", "message": f"The batch loss rose from {trend['first']:.3g} to "
                         f"{trend['last']:.3g} over the last {trend['window']} steps: η = {lr:g} is probably "
                         "too large (each step overshoots the minimum further)."})
    if trend["oscillating"]:
        warnings.append({"kind": "oscillating", "message": f"The batch loss goes up and down on "
                         f"{trend['flip_share']:.0%} of the last {trend['window']} steps, by {trend['swing']:.0%} "
                         f"of its level on average: η = {lr:g} may be too large (steps jump across the valley)."})
    data = session.data
    rows = np.unique(np.linspace(0, data.n_train - 1, min(SAMPLE, data.n_train)).round().astype(np.int64))
    with overflow_ignored():
        units = unit_health(session.model, data.x_train[rows]) if not session.diverged else []
    for layer in units:
        name, n, index = layer["activation"], layer["units"], layer["index"]
        if layer["saturated"] and len(layer["saturated"]) >= UNITS_SHARE * n:
            bound = "a < 0.01 or a > 0.99" if name == "sigmoid" else f"|a| > {1 - 2 * EDGE:g}"
            warnings.append({"kind": "saturated", "layer": index, "units": layer["saturated"], "message":
                             f"{len(layer['saturated'])} of {n} {name} units of layer {index + 1} are saturated "
                             f"({bound} for {SHARE:.0%} of {len(rows)} samples): f′ ≈ 0 there, so their δ "
                             "and ∂cost/∂W all but vanish. A smaller η or smaller initial weights help."})
        if layer["dead"] and len(layer["dead"]) >= UNITS_SHARE * n:
            warnings.append({"kind": "dead", "layer": index, "units": layer["dead"], "message":
                             f"{len(layer['dead'])} of {n} ReLU units of layer {index + 1} are dead (a = 0 for all "
                             f"{len(rows)} samples): they pass no gradient back and will not recover. Too large "
                             "an η often kills them."})
    out = {"loss": {k: finite(v) if isinstance(v, float) else v for k, v in trend.items()}, "units": units,
           "warnings": warnings, "learning_rate": lr, "suggested_learning_rate": None, "step": session.model.step,
           "window": WINDOW}
    if suggest and warnings and not session.diverged:
        with overflow_ignored():
            out["suggested_learning_rate"], out["range_test"] = _suggested_rate(session)
    return out

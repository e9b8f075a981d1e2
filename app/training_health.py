"""How training is going, said in words with the numbers (engine/diagnostics.py finds the signs):
a rising or oscillating loss, saturated or dead units, and a learning rate to try instead."""
from __future__ import annotations

import numpy as np

from engine.activations import overflow_ignored
from engine.compare import build_run
from engine.diagnostics import EDGE, SHARE, UNITS_SHARE, WINDOW, loss_trend, overshoot, unit_health

from .postmortem import _suggested_rate
from .tensors import finite, sanitize

SAMPLE = 512         # training rows the units are looked at on


def report(session, suggest: bool = True) -> dict:
    """{"loss": the trend, "units": per layer, "warnings": [{"kind", "message"}], "learning_rate",
    "overshoot" (when the loss oscillates: engine.diagnostics.overshoot on a copy, else None),
    "suggested_learning_rate" (a range test from the current weights when anything is wrong)}.

    An oscillating batch loss is a warning only when the steps overshoot their own batch: late in
    training the loss is small and minibatch noise alone swings it by more than its level (MNIST,
    SGD η 0.05 at 97 % test accuracy: 72 % of signs flipped, swing 90 %), yet every step still
    lowers its own batch's loss; telling that student "η is too large, try 5e-5" was wrong."""
    lr = float(session.model.optimizer.current_learning_rate())
    trend = loss_trend(session.history["batch_loss"])
    warnings = []
    if trend["rising"]:
        warnings.append({"kind": "rising", "message": f"The batch loss rose from {trend['first']:.3g} to "
                         f"{trend['last']:.3g} over the last {trend['window']} steps: η = {lr:g} is probably "
                         "too large (each step overshoots the minimum further)."})
    steps = None
    if trend["oscillating"] and not session.diverged:
        with overflow_ignored():
            steps = overshoot_test(session)
    if trend["oscillating"] and steps is not None and steps["overshooting"]:
        warnings.append({"kind": "oscillating", "message": f"The batch loss goes up and down on "
                         f"{trend['flip_share']:.0%} of the last {trend['window']} steps, by {trend['swing']:.0%} "
                         f"of its level on average, and so does the cost on {steps['rows']} fixed training samples "
                         f"over {steps['steps']} steps from here ({steps['flip_share']:.0%} flipped, swing "
                         f"{steps['swing']:.0%}): η = {lr:g} is too large (each step jumps across the valley)."})
    data = session.data
    rows = _rows(data.n_train)
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
           "window": WINDOW, "overshoot": None if steps is None else sanitize(steps)}
    if suggest and warnings and not session.diverged:
        with overflow_ignored():
            out["suggested_learning_rate"], out["range_test"] = _suggested_rate(session)
    return out


def overshoot_test(session) -> dict:
    """engine.diagnostics.overshoot on a copy of the session's model (its weights and optimizer
    state), with the session's batch size and training rows: the session is not touched."""
    _, model, y_train, _ = build_run(session.config, data=session.data)
    model.set_weights(session.model.get_weights())
    model.optimizer.set_state(session.model.optimizer.get_state())
    rows = _rows(session.data.n_train)
    out = overshoot(model, session.data.x_train, y_train, session.config["batch_size"],
                    session.data.x_train[rows], y_train[rows], seed=session.model.step)
    return {**out, "rows": int(rows.size)}


def _rows(n: int) -> np.ndarray:
    """Up to SAMPLE training rows, evenly spread: the rows units and steps are looked at on."""
    return np.unique(np.linspace(0, n - 1, min(SAMPLE, n)).round().astype(np.int64))

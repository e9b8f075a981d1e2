"""How training is going, said in words with the numbers (engine/diagnostics.py finds the signs):
a rising or oscillating loss, saturated or dead units, and a learning rate to try instead.

The report reads a ``Snapshot`` of the session, taken under its lock in well under a millisecond,
and does its work (the overshoot test's 16 steps, the range test's 100) on a copy of the model,
outside the lock: a player training the session goes on meanwhile. Measured on MNIST
784-128-64-10 at batch 32, where the overshoot test runs on most requests: 45-55 ms a report,
which held the player still every 1.5 s the page asked while playing (3-4 % of its steps); outside the
lock it still took 3.4 % of the server's samples, so the page now asks every 3 s while playing."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from engine.activations import overflow_ignored
from engine.diagnostics import EDGE, SHARE, UNITS_SHARE, WINDOW, loss_trend, overshoot, unit_health

from .postmortem import suggested_rate
from .session_io import model_copy
from .tensors import finite, sanitize

SAMPLE = 512         # training rows the units are looked at on


@dataclass(frozen=True)
class Snapshot:
    """What a report reads of a session, copied while its lock is held."""
    config: dict                 # the session's configuration (a deep copy)
    data: object                 # its data set (never changed in place: a new data set is a new session)
    weights: list                # get_weights(): copies, Keras' layout
    optimizer_state: dict        # get_state(): iterations and slots, copies
    batch_losses: list           # the last WINDOW batch losses (a slice: not a copy of a long play's million)
    learning_rate: float         # the optimizer's current η (after any decay)
    step: int                    # updates applied
    diverged: bool               # the session stopped on a non-finite value


def snapshot(session) -> Snapshot:
    """The session's state as a report needs it (call it holding the session's lock)."""
    model = session.model
    return Snapshot(copy.deepcopy(session.config), session.data, model.get_weights(),
                    model.optimizer.get_state(), session.history["batch_loss"][-WINDOW:],
                    float(model.optimizer.current_learning_rate()), int(model.step), bool(session.diverged))


def report(session, suggest: bool = True) -> dict:
    """``report_on(snapshot(session))``: for a caller that holds the session's lock anyway."""
    return report_on(snapshot(session), suggest)


def report_on(snap: Snapshot, suggest: bool = True) -> dict:
    """{"loss": the trend, "units": per layer, "warnings": [{"kind", "message"}], "learning_rate",
    "overshoot" (when the loss oscillates: engine.diagnostics.overshoot on a copy, else None),
    "suggested_learning_rate" (a range test from the current weights when anything is wrong)}.

    An oscillating batch loss is a warning only when the steps overshoot their own batch: late in
    training the loss is small and minibatch noise alone swings it by more than its level (MNIST,
    SGD η 0.05 at 97 % test accuracy: 72 % of signs flipped, swing 90 %), yet every step still
    lowers its own batch's loss; telling that student "η is too large, try 5e-5" was wrong."""
    lr = snap.learning_rate
    trend = loss_trend(snap.batch_losses)
    warnings = []
    if trend["rising"]:
        warnings.append({"kind": "rising", "message": f"The batch loss rose from {trend['first']:.3g} to "
                         f"{trend['last']:.3g} over the last {trend['window']} steps, step after step (rank "
                         f"correlation with the step ρ = {trend['trend']:.2f}): η = {lr:g} is probably "
                         "too large (each step overshoots the minimum further)."})
    steps = None
    model, y_train = (model_copy(snap.config, snap.data, snap.weights, snap.optimizer_state)
                      if not snap.diverged else (None, None))
    if trend["oscillating"] and not snap.diverged:
        with overflow_ignored():
            steps = overshoot_test(snap, model, y_train)
    if trend["oscillating"] and steps is not None and steps["overshooting"]:
        warnings.append({"kind": "oscillating", "message": f"The batch loss goes up and down on "
                         f"{trend['flip_share']:.0%} of the last {trend['window']} steps, by {trend['swing']:.0%} "
                         f"of its level on average, and so does the cost on {steps['rows']} fixed training samples "
                         f"over {steps['steps']} steps from here ({steps['flip_share']:.0%} flipped, swing "
                         f"{steps['swing']:.0%}): η = {lr:g} is too large (each step jumps across the valley)."})
    data = snap.data
    rows = _rows(data.n_train)
    with overflow_ignored():
        units = unit_health(model, data.x_train[rows]) if not snap.diverged else []
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
           "warnings": warnings, "learning_rate": lr, "suggested_learning_rate": None, "step": snap.step,
           "window": WINDOW, "overshoot": None if steps is None else sanitize(steps)}
    if suggest and warnings and not snap.diverged:
        with overflow_ignored():
            out["suggested_learning_rate"], out["range_test"] = suggested_rate(snap.config, snap.data,
                                                                               snap.weights, lr)
    return out


def overshoot_test(snap: Snapshot, model, y_train) -> dict:
    """engine.diagnostics.overshoot on ``model``, a copy of the session's (``model_copy``), with the
    session's batch size and training rows; the weights and optimizer state are put back after."""
    rows = _rows(snap.data.n_train)
    out = overshoot(model, snap.data.x_train, y_train, snap.config["batch_size"],
                    snap.data.x_train[rows], y_train[rows], seed=snap.step)
    return {**out, "rows": int(rows.size)}


def _rows(n: int) -> np.ndarray:
    """Up to SAMPLE training rows, evenly spread: the rows units and steps are looked at on."""
    return np.unique(np.linspace(0, n - 1, min(SAMPLE, n)).round().astype(np.int64))

"""Signs that training is going wrong before anything is NaN: a loss that rises or oscillates, units
that saturate or die. Each check returns plain numbers, so a page can say what it saw.

* rising: the mean batch loss of the last quarter of the window is ``RISE`` × that of its first
  quarter or more (a learning rate too large makes each step overshoot further).
* oscillating: the batch loss goes up and down on most steps (at least ``FLIPS`` of the signs of
  successive differences change) by a large share of its level (mean |Δloss| ≥ ``SWING`` × mean loss).
* saturated: a sigmoid or tanh unit whose |a − centre| is within ``EDGE`` of its bound for at least
  ``SHARE`` of the samples: f′ ≈ 0 there, so δ and ∂cost/∂W vanish for it.
* dead: a ReLU unit whose a is 0 for every sample: it passes no gradient and never recovers.

A layer is worth a warning when at least ``UNITS_SHARE`` of its units are saturated or dead: one dead
ReLU unit of 64 is common in a network that trains well, and no reason to lower η.
"""
from __future__ import annotations

import numpy as np

WINDOW = 60          # the last batch losses looked at
RISE = 1.5
FLIPS = 0.6          # (noise alone flips about 2/3 of the signs: the swing tells them apart)
SWING = 0.4
EDGE = 0.01          # of the range: sigmoid a < 0.01 or > 0.99, tanh |a| > 0.98
SHARE = 0.95
UNITS_SHARE = 0.1    # of a layer's units saturated or dead before it is worth a warning


def loss_trend(batch_losses) -> dict:
    """{"rising", "oscillating", "first", "last", "flip_share", "swing", "window"} over the last WINDOW losses."""
    losses = np.asarray([v for v in list(batch_losses)[-WINDOW:] if v is not None], dtype=np.float64)
    out = {"window": int(losses.size), "rising": False, "oscillating": False}
    if losses.size < 12:
        return out
    quarter = losses.size // 4
    first, last = float(losses[:quarter].mean()), float(losses[-quarter:].mean())
    diffs = np.diff(losses)
    signs = np.sign(diffs[diffs != 0])
    flips = float(np.mean(signs[1:] != signs[:-1])) if signs.size > 1 else 0.0
    level = float(np.mean(np.abs(losses))) or 1.0
    swing = float(np.mean(np.abs(diffs))) / level
    out.update(first=first, last=last, flip_share=flips, swing=swing,
               rising=bool(last >= RISE * first and last > first),
               oscillating=bool(flips >= FLIPS and swing >= SWING))
    return out


def unit_health(model, x) -> list[dict]:
    """Per hidden Dense layer with sigmoid, tanh or relu units, on the rows ``x`` at inference: which
    units are saturated (sigmoid/tanh) or dead (relu), as {"index": l, "activation", "units",
    "saturated": [...], "dead": [...]} (unit numbers from 0). The output layer is left out: a confident
    sigmoid output is meant to sit near 0 or 1."""
    out = []
    hidden = list(zip(model.dense_layers, model.layer_outputs(x)))[:-1]
    for number, (dense, a) in enumerate(hidden, start=1):
        name = dense.activation.name
        entry = {"index": number, "activation": name, "units": int(a.shape[1]), "saturated": [], "dead": []}
        if name == "sigmoid":
            edge = (a < EDGE) | (a > 1 - EDGE)
            entry["saturated"] = np.flatnonzero(edge.mean(axis=0) >= SHARE).tolist()
        elif name == "tanh":
            edge = np.abs(a) > 1 - 2 * EDGE
            entry["saturated"] = np.flatnonzero(edge.mean(axis=0) >= SHARE).tolist()
        elif name == "relu":
            entry["dead"] = np.flatnonzero(np.all(a <= 0, axis=0)).tolist()
        else:
            continue
        out.append(entry)
    return out

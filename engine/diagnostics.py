"""Signs that training is going wrong before anything is NaN: a loss that rises or oscillates, units
that saturate or die. Each check returns plain numbers, so a page can say what it saw.

* rising: the mean batch loss of the last quarter of the window is ``RISE`` × that of its first
  quarter or more (a learning rate too large makes each step overshoot further), and it rose step
  after step: its rank correlation with the step number (Spearman's ρ) is ``TREND`` or more. A
  few bad batches in a row double a quarter's mean without any trend: measured over every 60-step
  window of healthy runs, the means alone said "rising" in 6.6 % of MNIST 784-128-64-10's (SGD
  η 0.05, batch 32, 4 epochs), 2.1 % of the MNIST lecture preset's and 0.7 % of the 200-point
  spiral's, at ρ ≤ 0.43 in all of them; a loss climbing from 0.3 to 1.2 under 30 % noise has
  ρ ≥ 0.65.
* oscillating: the batch loss goes up and down on most steps (at least ``FLIPS`` of the signs of
  successive differences change) by a large share of its level (mean |Δloss| ≥ ``SWING`` × mean loss).
* overshooting: over ``STEPS`` steps from the current weights (and optimizer state), the cost on
  a fixed sample of the training rows moves by ``EVAL_SWING`` of its level a step on average and
  goes up after at least ``ROSE`` of the steps. This is what "η too large: each step jumps across
  the valley" means, measured without the batch-to-batch noise; a batch loss that goes up and down
  only because each batch is different (large beside a small loss late in training) passes it.
  An oscillating batch loss is worth a warning only when the steps overshoot. Measured: MNIST
  784-128-64-10, SGD η 0.05 after 2 epochs: batch-loss swing 79 %, fixed-rows swing 2 % (4.6 %
  with momentum 0.9); the 200-point spiral, tanh, batch 4 at η 1 and 8: 13 % and 14 %, up after
  8 of 16 steps.
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
TREND = 0.5          # Spearman's ρ of the batch loss against the step, for a rise to count
FLIPS = 0.6          # (noise alone flips about 2/3 of the signs: the swing tells them apart)
SWING = 0.4
STEPS = 16           # steps the overshoot test takes from the current state
EVAL_SWING = 0.1     # its cost on fixed rows moves by this share of its level a step, on average,
ROSE = 0.25          # and goes up after at least this share of the steps: the steps overshoot
EDGE = 0.01          # of the range: sigmoid a < 0.01 or > 0.99, tanh |a| > 0.98
SHARE = 0.95
UNITS_SHARE = 0.1    # of a layer's units saturated or dead before it is worth a warning


def loss_trend(batch_losses) -> dict:
    """{"rising", "oscillating", "first", "last", "trend", "flip_share", "swing", "window"} over the last
    WINDOW losses ("trend": Spearman's ρ of the loss against the step)."""
    losses = np.asarray([v for v in list(batch_losses)[-WINDOW:] if v is not None], dtype=np.float64)
    out = {"window": int(losses.size), "rising": False, "oscillating": False}
    if losses.size < 12:
        return out
    quarter = losses.size // 4
    first, last = float(losses[:quarter].mean()), float(losses[-quarter:].mean())
    flips, swing = _flips_and_swing(losses)
    trend = _rank_correlation(losses)
    out.update(first=first, last=last, trend=trend, flip_share=flips, swing=swing,
               rising=bool(last >= RISE * first and last > first and trend >= TREND),
               oscillating=bool(flips >= FLIPS and swing >= SWING))
    return out


def overshoot(model, x, y, batch_size: int, x_eval=None, y_eval=None, steps: int = STEPS,
              seed: int = 0) -> dict:
    """``steps`` updates from the model's current weights and optimizer state, on batches of
    ``batch_size`` rows of (x, y) drawn with a seeded generator, and the cost (at inference: no
    dropout) on the fixed evaluation rows (x_eval, y_eval; default x, y) before them and after
    each: a curve without the batch-to-batch noise of the batch loss. Weights and optimizer state
    are put back afterwards (the step counter moves: use a copy if that matters).

    Returns {"steps", "costs": [L₀, L₁, …], "flip_share" and "swing" of that curve (as in
    loss_trend), "rose": steps after which the cost went up, "overshooting": swing ≥ EVAL_SWING and
    rose ≥ ROSE · steps (a cost that falls fast early in training swings too, but does not rise)}."""
    rng = np.random.default_rng(seed)
    x_eval, y_eval = (x, y) if x_eval is None else (x_eval, y_eval)
    weights, state = model.get_weights(), model.optimizer.get_state()
    n = len(x)
    costs = [_loss(model, x_eval, y_eval)]
    try:
        for _ in range(steps):
            rows = np.sort(rng.choice(n, size=min(batch_size, n), replace=False))
            model.train_on_batch(x[rows], y[rows])
            costs.append(_loss(model, x_eval, y_eval))
    finally:
        model.set_weights(weights)
        model.optimizer.set_state(state)
    curve = np.asarray(costs, dtype=np.float64)
    finite = bool(np.all(np.isfinite(curve)))
    flips, swing = _flips_and_swing(curve) if finite else (1.0, float("inf"))
    rose = int(np.sum(~(np.diff(curve) <= 0)))          # a NaN after a step counts as a rise
    return {"steps": steps, "costs": [float(c) for c in curve], "flip_share": flips, "swing": swing,
            "rose": rose, "overshooting": bool(swing >= EVAL_SWING and rose >= ROSE * steps)}


def _flips_and_swing(losses: np.ndarray) -> tuple[float, float]:
    """(share of successive differences whose sign flips, mean |Δ| / mean |loss|)."""
    diffs = np.diff(losses)
    signs = np.sign(diffs[diffs != 0])
    flips = float(np.mean(signs[1:] != signs[:-1])) if signs.size > 1 else 0.0
    level = float(np.mean(np.abs(losses))) or 1.0
    return flips, float(np.mean(np.abs(diffs))) / level


def _rank_correlation(losses: np.ndarray) -> float:
    """Spearman's ρ of the losses against their step: the Pearson correlation of their ranks (ties
    get their mean rank) with 0, 1, …, n − 1; 0 for a constant loss."""
    _, inverse, counts = np.unique(losses, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts + 1) / 2)[inverse]      # 0-based; a tie: its values' mean rank
    steps = np.arange(losses.size, dtype=np.float64)
    r, t = ranks - ranks.mean(), steps - steps.mean()
    denominator = float(np.sqrt(np.dot(r, r) * np.dot(t, t)))
    return float(np.dot(r, t) / denominator) if denominator > 0 else 0.0


def _loss(model, x, y) -> float:
    logs = model.evaluate(x, y, return_dict=True)
    return float(logs["loss"])


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

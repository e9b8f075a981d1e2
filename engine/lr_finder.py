"""The learning-rate range test (Smith 2017, "Cyclical Learning Rates"; fastai's lr_find).

Over one pass through the training data the learning rate grows exponentially from ``min_lr`` to
``max_lr``, one value per batch: lr_i = min_lr · (max_lr / min_lr)^(i / (n − 1)). The batch losses are
smoothed with a bias-corrected exponential moving average, s_i = (β·m_{i−1} + (1 − β)·loss_i) / (1 − β^(i+1)),
and the test stops early once the smoothed loss exceeds ``stop_factor`` × its best value, or the network
diverges. The suggested rate is where the smoothed loss falls fastest against log(lr) (the steepest
negative slope) before its minimum.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .errors import Diverged
from .training import BatchSchedule


def rate_schedule(min_lr: float, max_lr: float, steps: int) -> np.ndarray:
    """``steps`` rates growing geometrically from min_lr to max_lr (both included)."""
    if not 0 < min_lr < max_lr:
        raise ValueError(f"need 0 < min_lr < max_lr, got min_lr={min_lr!r}, max_lr={max_lr!r}")
    if steps < 2:
        raise ValueError(f"the range test needs at least 2 steps, got {steps}")
    return np.geomspace(min_lr, max_lr, steps)


def smooth(losses, beta: float = 0.98) -> np.ndarray:
    """Bias-corrected exponential moving average of ``losses`` (as fastai's lr_find)."""
    out, mean = np.empty(len(losses)), 0.0
    for i, loss in enumerate(losses):
        mean = beta * mean + (1.0 - beta) * float(loss)
        out[i] = mean / (1.0 - beta ** (i + 1))
    return out


def suggest(rates, smoothed) -> float | None:
    """The rate of steepest descent of ``smoothed`` against log(rate), before the minimum; None if too short."""
    rates, smoothed = np.asarray(rates, dtype=float), np.asarray(smoothed, dtype=float)
    end = int(np.argmin(smoothed)) + 1
    if end < 3:
        return float(rates[0]) if len(rates) else None
    slopes = np.gradient(smoothed[:end], np.log(rates[:end]))
    return float(rates[int(np.argmin(slopes))])


def range_test(model, x, y, batch_size: int = 32, min_lr: float = 1e-5, max_lr: float = 10.0,
               steps: int | None = None, beta: float = 0.98, stop_factor: float = 4.0,
               progress: Callable[[dict], None] | None = None,
               should_stop: Callable[[], bool] | None = None) -> dict:
    """Run the range test on a compiled ``model`` (its weights change: use a copy you can throw away).

    ``steps`` defaults to one pass over ``x`` (one epoch of batches). ``progress`` gets one
    {"event": "range_step", "learning_rate", "loss", "smoothed"} per batch. Returns {"learning_rates",
    "losses", "smoothed", "suggested_learning_rate", "stopped": None | "diverged" | "loss_exploded" |
    "cancelled", "diverged": None | {...}}.
    """
    x = model.prepare_x(x)
    schedule = BatchSchedule(x.shape[0], batch_size, True, model.shuffle_rng)
    rates = rate_schedule(min_lr, max_lr, steps or schedule.steps_per_epoch)
    out = {"learning_rates": [], "losses": [], "smoothed": [], "suggested_learning_rate": None,
           "stopped": None, "diverged": None}
    mean, best = 0.0, np.inf
    for i, lr in enumerate(rates):
        if should_stop is not None and should_stop():
            out["stopped"] = "cancelled"
            break
        model.optimizer.learning_rate = float(lr)
        rows, _ = schedule.next_batch()
        try:
            trace = model.forward(x[rows], y[rows], training=True)
            model.backward()
            model.apply_gradients(return_deltas=False)
        except Diverged as exc:
            out["stopped"], out["diverged"] = "diverged", exc.to_dict()
            break
        mean = beta * mean + (1.0 - beta) * trace.loss
        smoothed = mean / (1.0 - beta ** (i + 1))
        out["learning_rates"].append(float(lr))
        out["losses"].append(float(trace.loss))
        out["smoothed"].append(float(smoothed))
        if progress is not None:
            progress({"event": "range_step", "learning_rate": float(lr), "loss": float(trace.loss),
                      "smoothed": float(smoothed)})
        best = min(best, smoothed)
        if not np.isfinite(smoothed) or smoothed > stop_factor * best:
            out["stopped"] = "loss_exploded"
            break
    if out["learning_rates"]:
        out["suggested_learning_rate"] = suggest(out["learning_rates"], out["smoothed"])
    return out

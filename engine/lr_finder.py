"""The learning-rate range test (Smith 2017, "Cyclical Learning Rates"; fastai's lr_find).

Over at least ``MIN_STEPS`` batches (one pass, or several passes over a small data set) the learning
rate grows exponentially from ``min_lr`` to ``max_lr``, one value per batch:
lr_i = min_lr · (max_lr / min_lr)^(i / (n − 1)). The batch losses are smoothed with a bias-corrected
exponential moving average, s_i = (β·m_{i−1} + (1 − β)·loss_i) / (1 − β^(i+1)), and the test stops early
once the smoothed loss exceeds ``stop_factor`` × its best value, or the network diverges.

The suggested rate is fastai's "minimum / 10": the rate where the smoothed loss is lowest (after the
first tenth of the run, while the average warms up), divided by ten: a rate that still descends fast
but sits safely below the point where the loss blows up. The rate of steepest descent of the smoothed
loss against log(rate) before that minimum is reported too. A pass of a few batches is mostly noise
(each batch sees a different rate), which is why short passes are lengthened to ``MIN_STEPS``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .errors import Diverged
from .runner import Run


def rate_schedule(min_lr: float, max_lr: float, steps: int) -> np.ndarray:
    """``steps`` rates growing geometrically from min_lr to max_lr (both included)."""
    if not 0 < min_lr < max_lr:
        raise ValueError(f"need 0 < min_lr < max_lr, got min_lr={min_lr!r}, max_lr={max_lr!r}")
    if steps < 2:
        raise ValueError(f"the range test needs at least 2 steps, got {steps}")
    return np.geomspace(min_lr, max_lr, steps)


MIN_STEPS = 300                 # batches of a range test by default (one pass, or more if it is short)


def smooth(losses, beta: float = 0.98) -> np.ndarray:
    """Bias-corrected exponential moving average of ``losses`` (as fastai's lr_find)."""
    out, mean = np.empty(len(losses)), 0.0
    for i, loss in enumerate(losses):
        mean = beta * mean + (1.0 - beta) * float(loss)
        out[i] = mean / (1.0 - beta ** (i + 1))
    return out


def auto_beta(steps: int, beta: float = 0.98) -> float:
    """``beta``, lowered for short runs so the average lags at most about a twentieth of the run."""
    return float(min(beta, max(0.0, 1.0 - 5.0 / max(int(steps), 1))))


def suggestions(rates, smoothed) -> dict:
    """{"minimum": rate of the lowest smoothed loss, "min_div_10", "steepest": rate of steepest descent
    before the minimum (None if the loss never fell)}, ignoring the first tenth (the EMA's warm-up)."""
    rates, smoothed = np.asarray(rates, dtype=float), np.asarray(smoothed, dtype=float)
    n = len(rates)
    if n == 0:
        return {"minimum": None, "min_div_10": None, "steepest": None}
    skip = min(max(1, n // 10), n - 1) if n > 3 else 0
    r, s = rates[skip:], smoothed[skip:]
    m = int(np.argmin(s))
    steepest = None
    if m >= 2:
        slopes = np.gradient(s[:m + 1], np.log(r[:m + 1]))
        i = int(np.argmin(slopes))
        steepest = float(r[i]) if slopes[i] < 0 else None
    return {"minimum": float(r[m]), "min_div_10": float(max(r[m] / 10.0, rates[0])), "steepest": steepest}


def suggest(rates, smoothed) -> float | None:
    """The suggested rate: the rate of the lowest smoothed loss / 10 (never below the first rate)."""
    return suggestions(rates, smoothed)["min_div_10"]


def range_test(model, x, y, batch_size: int = 32, min_lr: float = 1e-5, max_lr: float = 10.0,
               steps: int | None = None, beta: float | None = None, stop_factor: float = 4.0,
               progress: Callable[[dict], None] | None = None,
               should_stop: Callable[[], bool] | None = None) -> dict:
    """Run the range test on a compiled ``model`` (its weights change: use a copy you can throw away).

    ``steps`` defaults to one pass over ``x`` (one epoch of batches), at least ``MIN_STEPS``; ``beta``
    to ``auto_beta(steps)`` (0.98 for runs of 250 batches or more). ``progress`` gets one
    {"event": "range_step", "learning_rate", "loss", "smoothed"} per batch. Returns {"learning_rates",
    "losses", "smoothed", "suggested_learning_rate", "suggestions", "stopped": None | "diverged" | "loss_exploded" |
    "cancelled", "diverged": None | {...}}.
    """
    run = Run(model, x, y, batch_size)           # the steps every training run takes
    rates = rate_schedule(min_lr, max_lr, steps or max(run.schedule.steps_per_epoch, MIN_STEPS))
    beta = auto_beta(len(rates)) if beta is None else beta
    out = {"learning_rates": [], "losses": [], "smoothed": [], "suggested_learning_rate": None,
           "stopped": None, "diverged": None}
    mean, best = 0.0, np.inf
    for i, lr in enumerate(rates):
        if should_stop is not None and should_stop():
            out["stopped"] = "cancelled"
            break
        model.optimizer.learning_rate = float(lr)
        try:
            trace = run.step()
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
    out["suggestions"] = suggestions(out["learning_rates"], out["smoothed"])
    out["suggested_learning_rate"] = out["suggestions"]["min_div_10"]
    return out


RULE = ("minimum / 10: a tenth of the rate where the smoothed loss{over} is lowest, the first tenth of the "
        "rates skipped (fastai's suggestion)")


def seeded_suggestion(runs: list[dict]) -> dict:
    """The suggestion of range tests run with several seeds (the same rates): ``suggestions`` on the
    mean smoothed loss over the seeds, s̄_k = (1/S)·Σ_s smoothed_s[k], for the rates every seed
    reached (a run stops when its loss explodes). Returns {"suggested_learning_rate", "suggestions",
    "seeds", "rule"}."""
    curves = [r["smoothed"] for r in runs if r.get("smoothed")]
    n = min((len(c) for c in curves), default=0)
    rates = runs[0]["learning_rates"][:n] if curves else []
    mean = np.mean([c[:n] for c in curves], axis=0) if n else []
    found = suggestions(rates, mean)
    over = f", mean over {len(curves)} seeds," if len(curves) > 1 else ""
    return {"suggested_learning_rate": found["min_div_10"], "suggestions": found, "seeds": len(curves),
            "rule": RULE.format(over=over)}

"""One epoch of fit's steps on a FastStep: forward → backward → apply_gradients per batch.

``fit`` (engine/training.py) and comparison runs (engine/compare.py) call ``run_epoch``. Besides
FastStep's own work arrays and packed update, it uses the tricks that need a whole epoch:

* the folded learning rate: with plain SGD (η ≤ 1) and nobody looking at each batch's gradients,
  every step but the epoch's last computes η·∂cost/∂W directly (η folded into δ/batch) and the
  update is W ← W − (that), one pass. The weights agree with the reference step to float rounding
  (η times a sum is rounded differently). The epoch's last step is not folded, so the trace (and
  every layer's gradient arrays) ends the epoch holding the exact ∂cost/∂W of that step; an
  epoch that ends early (Diverged, a stop, an interrupt) divides the gradients by η again.
* deferred finiteness tests: backward and the update are tested by the next forward (or by
  ``verify_weights``, which the caller runs when the epoch ends).
* the batched loss meter (``meter`` a LabelMeter, ``stored``): a step stores ŷ and the losses are
  worked out a block of batches at a time; the trace then gets its ``loss`` at the epoch's end.
* ``x.take(rows, axis=0)``: the rows of x[rows], gathered faster (about 2–4 µs a batch of 32).
"""
from __future__ import annotations

from typing import Callable

from ..activations import overflow_ignored


def run_epoch(fast, x, y, schedule, meter, labels=None, stored: bool = False, fold: bool = True,
              after_batch: Callable | None = None, before_batch: Callable | None = None):
    """The rest of ``schedule``'s epoch on ``fast`` (a FastStep); returns the last trace, or None
    when ``before_batch()`` returned True (stop) before any batch.

    ``meter``: EpochMeter (each step's loss is computed, with the cheaper label path if ``labels``),
    or a LabelMeter when ``stored``. ``after_batch(trace, batch)`` runs after each update (inside
    NumPy's ignored-overflow state; returning True stops the epoch); ``fold=False`` keeps every
    gradient exact (a callback that looks at each batch)."""
    try:
        with overflow_ignored():    # sigmoid's e^(−z) → inf is right; a divergence raises Diverged
            return _steps(fast, x, y, schedule, meter, labels, stored, fold, after_batch, before_batch)
    except BaseException:
        fast.unfold_gradients()
        raise


def _steps(fast, x, y, schedule, meter, labels, stored, fold, after_batch, before_batch):
    last, batch, trace = False, 0, None
    while not last:
        if before_batch is not None and before_batch():
            break
        rows, last = schedule.next_batch()
        trace = fast.forward(x.take(rows, axis=0), training=True)
        if stored:
            trace.y = y.take(rows, axis=0)
            meter.add(rows, trace.y_pred)
        else:
            batch_labels = None if labels is None else labels[rows]
            fast.fill_loss(trace, y.take(rows, axis=0), batch_labels)
        rate = fast.fold_rate() if fold and not last else None
        fast.backward(check=False, grad_scale=rate)                          # tested by the next forward
        fast.apply_gradients(return_deltas=False, check=False, scaled=rate is not None)
        if not stored:
            meter.update(trace, batch_labels)
        if after_batch is not None and after_batch(trace, batch):
            break
        batch += 1
    if not last:                   # stopped early: the gradients hold ∂cost/∂W again
        fast.unfold_gradients()
    return trace

"""The training loop: batch order, per-epoch metric averages, ``fit`` and ``evaluate``.

``BatchSchedule`` is shared by ``Sequential.fit`` and by the web server, which steps the same
schedule one phase at a time. fit trains on the model's engine.fast.FastStep (engine/fast/epoch.py
has its loop over an epoch's batches): the numbers of model.forward → model.backward →
model.apply_gradients on engine/step.py's ReferenceStep, faster.
"""
from __future__ import annotations

import numpy as np

from . import fast
from .activations import overflow_as_outside
from .callbacks import Callback, History, ProgbarLogger
from .fast.epoch import run_epoch
from .fast.meters import LabelMeter
from .meters import EpochMeter, class_labels
from .step import mean_loss

__all__ = ["BatchSchedule", "EpochMeter", "class_labels", "evaluate", "fit", "split_validation"]


class BatchSchedule:
    """The order in which one epoch visits the training rows, and where we are in it."""

    def __init__(self, n: int, batch_size: int, shuffle: bool, rng: np.random.Generator):
        if n < 1:
            raise ValueError("there are no training samples")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be ≥ 1, got {batch_size!r}")
        self.n, self.batch_size, self.shuffle, self.rng = n, int(batch_size), shuffle, rng
        self.order: np.ndarray | None = None   # this epoch's permutation of the rows
        self.position = 0                      # rows of this epoch already handed out
        self.batches = 0                       # batches of this epoch already handed out

    @property
    def steps_per_epoch(self) -> int:
        """Batches in the current epoch: those handed out + ⌈rows left / batch_size⌉ (the batch size
        may change mid-epoch; at an epoch's start this is ⌈n / batch_size⌉)."""
        return self.batches + -(-(self.n - self.position) // self.batch_size)

    @property
    def batch_index(self) -> int:
        """How many batches of the current epoch have been handed out."""
        return self.batches

    def next_batch(self) -> tuple[np.ndarray, bool]:
        """Row indices of the next batch, and whether it is the epoch's last one."""
        if self.order is None:
            self.order = self.rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        batch = self.order[self.position:self.position + self.batch_size]
        self.position += batch.size
        self.batches += 1
        last = self.position >= self.n
        if last:
            self.order, self.position, self.batches = None, 0, 0
        return batch, last


def evaluate(model, x, y) -> dict[str, float]:
    """Loss (+ regularisation penalty) and metrics over all of ``x``, ``y`` at inference."""
    x = model.prepare_x(x)
    y = model.prepare_y(y, x.shape[0])
    if x.shape[0] == 0:
        raise ValueError("evaluate() needs at least one sample; got an empty x (the mean loss of no "
                         "samples is undefined)")
    y_pred = model.predict(x)
    logs = {"loss": float(np.mean(model.loss.per_sample(y, y_pred))) + model.penalty()}
    for name, metric in model.metrics.items():
        logs[name] = metric(y, y_pred)
    return logs


def split_validation(model, x, y, validation_split, validation_data):
    """(x, y, x_val, y_val): explicit data, or the last ``validation_split`` of the rows (as Keras)."""
    if validation_data is not None:
        x_val, y_val = validation_data[0], validation_data[1]
        return x, y, model.prepare_x(x_val), y_val
    if not 0.0 <= float(validation_split) < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
    if validation_split:
        cut = int(x.shape[0] * (1.0 - validation_split))
        if cut < 1 or cut == x.shape[0]:
            raise ValueError(f"validation_split={validation_split} leaves no training or no validation rows")
        return x[:cut], y[:cut], x[cut:], y[cut:]
    return x, y, None, None


def fit(model, x, y, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
        validation_data=None, shuffle=True, initial_epoch=0) -> History:
    """Keras' fit: for each epoch, for each batch, forward → backward → apply_gradients (on the
    model's FastStep, engine/fast/epoch.py).

    For cross-entropy with accuracy metrics only (and no callback that looks at every batch), the
    batch losses are worked out a block at a time (engine.fast.meters.LabelMeter): the trace of a
    step then gets its ``loss`` at the end of the epoch (the last step's), not during it. Callbacks
    other than the progress bar run with the caller's floating-point error state."""
    model._require_compiled()
    x = model.prepare_x(x)
    y = model.prepare_y(y, x.shape[0])
    x, y, x_val, y_val = split_validation(model, x, y, validation_split, validation_data)
    schedule = BatchSchedule(x.shape[0], batch_size or 32, shuffle, model.shuffle_rng)
    history = History()
    hooks: list[Callback] = [history, *(callbacks or [])]
    if verbose:
        hooks.append(ProgbarLogger())
    for hook in hooks:
        hook.set_model(model)
        hook.params = {"epochs": epochs, "steps": schedule.steps_per_epoch, "verbose": verbose}
    labels = class_labels(model, y)
    batch_hooks = [h for h in hooks if getattr(h.on_batch_end, "__func__", None) is not Callback.on_batch_end]
    # Whether a callback of the user's looks at every batch: it may read model.trace.loss (which
    # LabelMeter fills only at the end of an epoch) or ∂cost/∂W (which plain SGD's fold scales).
    watched = not all(isinstance(h, ProgbarLogger) for h in batch_hooks)
    stored = LabelMeter.usable(model, labels) and not watched   # loss and accuracy a block at a time
    meter = LabelMeter(model, labels, x.shape[0]) if stored else EpochMeter(model)
    step = fast.step_of(model)

    def after_batch(trace, batch):
        if watched:                     # Keras 3 passes the epoch's running means
            with overflow_as_outside():
                _call(batch_hooks, "on_batch_end", batch, meter.result())
        elif batch_hooks:               # the progress bar: the running means, if it draws
            _call(batch_hooks, "on_batch_end", batch, meter.running_logs() if stored else meter.result())

    model.stop_training = False
    _call(hooks, "on_train_begin")
    try:
        for epoch in range(initial_epoch, epochs):
            model.epoch = epoch
            _call(hooks, "on_epoch_begin", epoch)
            meter.reset()
            trace = run_epoch(step, x, y, schedule, meter, labels, stored, fold=not watched,
                              after_batch=after_batch if batch_hooks else None)
            step.verify_weights()       # the epoch's last update, which no forward has tested
            logs = meter.result()
            if stored:                  # the newest trace's loss, as the step-by-step path sets it
                trace.per_sample_loss = meter.last_losses
                trace.loss = mean_loss(meter.last_losses)
            if x_val is not None:
                logs.update({f"val_{k}": v for k, v in evaluate(model, x_val, y_val).items()})
            _call(hooks, "on_epoch_end", epoch, logs)
            if model.stop_training:
                break
    finally:
        model.epoch = None
    _call(hooks, "on_train_end")
    model.history = history
    return history


def _call(hooks, name, *args):
    for hook in hooks:
        getattr(hook, name)(*args)

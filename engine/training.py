"""Keras' ``fit``: epochs of engine/runner.py's ``Run`` with Keras' callbacks around them.

The steps are those every other caller takes (the web server, comparison runs, the range test):
the model's FastStep, whose numbers are model.forward → model.backward → model.apply_gradients on
engine/step.py's ReferenceStep, bit for bit.
"""
from __future__ import annotations

from .activations import overflow_as_outside
from .callbacks import Callback, History, ProgbarLogger
from .meters import EpochMeter, class_labels, evaluate
from .runner import Run
from .schedule import BatchSchedule

__all__ = ["BatchSchedule", "EpochMeter", "class_labels", "evaluate", "fit", "split_validation"]


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
    """Keras' fit: for each epoch, for each batch, forward → backward → apply_gradients (engine/runner.py).

    For cross-entropy with accuracy metrics only (and no callback that looks at every batch), the
    batch losses are worked out a block at a time (engine.fast.meters.LabelMeter): the trace of a
    step then gets its ``loss`` at the end of the epoch (the last step's), not during it. Callbacks
    other than the progress bar run with the caller's floating-point error state."""
    model._require_compiled()
    x = model.prepare_x(x)
    y = model.prepare_y(y, x.shape[0])
    x, y, x_val, y_val = split_validation(model, x, y, validation_split, validation_data)
    history = History()
    hooks: list[Callback] = [history, *(callbacks or [])]
    if verbose:
        hooks.append(ProgbarLogger())
    batch_hooks = [h for h in hooks if getattr(h.on_batch_end, "__func__", None) is not Callback.on_batch_end]
    # A callback of the user's that looks at every batch may read model.trace.loss, which the
    # batched meter fills only at the end of an epoch.
    watched = not all(isinstance(h, ProgbarLogger) for h in batch_hooks)
    run = Run(model, x, y, batch_size or 32, shuffle, validation=None if x_val is None else (x_val, y_val),
              batch_losses=watched)
    for hook in hooks:
        hook.set_model(model)
        hook.params = {"epochs": epochs, "steps": run.schedule.steps_per_epoch, "verbose": verbose}
    meter = run.meter

    def running(epoch):
        """The epoch's means so far (after its last batch, the run has ended it: its logs)."""
        if run.epoch != epoch:
            return {k: v for k, v in run.last_logs.items() if not k.startswith("val_")}
        return meter.running_logs() if run.stored and not watched else meter.result()

    def on_batch(trace, batch):
        if watched:                     # Keras 3 passes the epoch's running means
            with overflow_as_outside():
                _call(batch_hooks, "on_batch_end", batch, running(epoch))
        else:                           # the progress bar: the running means, if it draws
            _call(batch_hooks, "on_batch_end", batch, running(epoch))

    model.stop_training = False
    _call(hooks, "on_train_begin")
    try:
        for epoch in range(initial_epoch, epochs):
            run.epoch = epoch
            _call(hooks, "on_epoch_begin", epoch)
            run.run_epoch(on_batch=on_batch if batch_hooks else None)
            _call(hooks, "on_epoch_end", epoch, dict(run.last_logs))
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

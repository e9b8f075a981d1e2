"""The training loop: batch order, per-epoch metric averages, ``fit`` and ``evaluate``.

Shared by ``Sequential.fit`` and by the web server, which steps the same schedule one
phase at a time; both call model.forward → model.backward → model.apply_gradients.
"""
from __future__ import annotations

import numpy as np

from .callbacks import Callback, History, ProgbarLogger
from .losses import labels_path
from .metrics import CategoricalAccuracy, SparseCategoricalAccuracy


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


class EpochMeter:
    """Running, sample-weighted means of the loss and metrics over one epoch (Keras 3's trackers)."""

    def __init__(self, model):
        self.model = model
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.sums = {"loss": 0.0, **{name: 0.0 for name in self.model.metrics}}

    def update(self, trace, labels: np.ndarray | None = None) -> None:
        """Add a batch; ``labels`` (class indices of the one-hot targets, from fit) lets the
        accuracies count argmax ŷ = label directly (argmax once), with the same numbers."""
        n = trace.batch_size
        self.count += n
        sums = self.sums
        sums["loss"] += trace.loss * n
        predicted = None
        for name, metric in self.model.metrics.items():
            if labels is not None and type(metric) in _LABEL_METRICS:
                if predicted is None:
                    predicted = np.argmax(trace.y_pred, axis=-1)
                sums[name] += float(np.count_nonzero(predicted == labels))
            else:
                sums[name] += float(np.add.reduce(metric.per_sample(trace.y, trace.y_pred), axis=None))

    def result(self) -> dict[str, float]:
        return {k: v / max(self.count, 1) for k, v in self.sums.items()}


_LABEL_METRICS = (CategoricalAccuracy, SparseCategoricalAccuracy)


def class_labels(model, y: np.ndarray) -> np.ndarray | None:
    """The class index of each target row when the loss is cross-entropy and the targets are
    sparse labels or exact one-hot rows (then the loss and accuracy take the label paths);
    None otherwise."""
    if not labels_path(model.loss):
        return None
    if model.loss.targets == "sparse":
        return y
    if y.ndim != 2 or y.shape[0] == 0 or y.shape[1] < 2:
        return None
    labels = np.argmax(y, axis=-1)
    if np.count_nonzero(y) != y.shape[0] or not np.all(y[np.arange(y.shape[0]), labels] == 1):
        return None
    return labels


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
    """Keras' fit: for each epoch, for each batch, forward → backward → apply_gradients."""
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
    meter = EpochMeter(model)
    labels = class_labels(model, y)
    batch_hooks = [h for h in hooks if type(h).on_batch_end is not Callback.on_batch_end]
    model.stop_training = False
    _call(hooks, "on_train_begin")
    try:
        for epoch in range(initial_epoch, epochs):
            model.epoch = epoch
            _call(hooks, "on_epoch_begin", epoch)
            meter.reset()
            last, batch = False, 0
            while not last:
                rows, last = schedule.next_batch()
                trace = model._forward(x[rows], training=True)          # x checked once above
                batch_labels = None if labels is None else labels[rows]
                model._fill_loss(trace, y[rows], batch_labels)
                model.backward(check=False)                              # tested by the next forward
                model.apply_gradients(return_deltas=False, check=False)  # (or verify_weights below)
                meter.update(trace, batch_labels)
                if batch_hooks:
                    _call(batch_hooks, "on_batch_end", batch, {"loss": trace.loss})
                batch += 1
            model.verify_weights()      # the epoch's last update, which no forward has tested
            logs = meter.result()
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

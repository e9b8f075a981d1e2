"""Callbacks, as in Keras: hooks that ``fit`` calls around epochs and batches."""
from __future__ import annotations

import sys
import time


class Callback:
    """Base class; override the hooks you need. ``self.model`` is set by ``fit``."""

    model = None

    def set_model(self, model) -> None:
        self.model = model

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...


class _AliasDict(dict):
    """A dict in which ``acc`` and ``accuracy`` (and their ``val_`` forms) find each other."""

    _ALIASES = {"acc": "accuracy", "accuracy": "acc", "val_acc": "val_accuracy", "val_accuracy": "val_acc"}

    def __missing__(self, key):
        other = self._ALIASES.get(key)
        if other is not None and dict.__contains__(self, other):
            return dict.__getitem__(self, other)
        raise KeyError(key)

    def __contains__(self, key):
        return dict.__contains__(self, key) or dict.__contains__(self, self._ALIASES.get(key, key))


class History(Callback):
    """Records every epoch's logs: ``history.history["loss"][e]`` is epoch e's mean training loss.

    Keys: ``loss``, each metric by the name given to ``compile`` (``acc``, ``mae`` ...), and the
    same with ``val_`` when there is validation data; ``accuracy`` and ``acc`` are interchangeable.
    """

    def __init__(self):
        self.history: dict[str, list[float]] = _AliasDict()   # metric name → one value per epoch
        self.epoch: list[int] = []                            # epoch numbers recorded

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))


class ProgbarLogger(Callback):
    """Keras' progress bar: ``Epoch 1/5`` then ``120/375 [====>....] - loss: 0.31 - acc: 0.91``."""

    def __init__(self, stream=None, interval: float = 0.1, width: int = 30):
        self.stream = stream or sys.stdout     # where the bar is written
        self.interval = interval               # seconds between redraws
        self.width = width                     # characters in the bar

    def on_train_begin(self, logs=None):
        self.epochs = self.params["epochs"]
        self.steps = self.params["steps"]

    def on_epoch_begin(self, epoch, logs=None):
        self.start = self.last = time.perf_counter()
        self.stream.write(f"Epoch {epoch + 1}/{self.epochs}\n")

    def on_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if now - self.last >= self.interval and batch + 1 < self.steps:
            self.last = now
            self._draw(batch + 1, logs or {}, now - self.start, final=False)

    def on_epoch_end(self, epoch, logs=None):
        self._draw(self.steps, logs or {}, time.perf_counter() - self.start, final=True)

    def _draw(self, done, logs, elapsed, final):
        filled = int(self.width * done / max(self.steps, 1))
        bar = "=" * max(filled - 1, 0) + (">" if filled < self.width else "=") + "." * (self.width - filled)
        values = " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())
        timing = f"{elapsed:.1f}s" if final else f"ETA {elapsed / max(done, 1) * (self.steps - done):.0f}s"
        self.stream.write(f"\r{done}/{self.steps} [{bar}] - {timing} - {values}" + ("\n" if final else ""))
        self.stream.flush()


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, **hooks):
        for name, fn in hooks.items():
            if not hasattr(Callback, name):
                raise ValueError(f"LambdaCallback: unknown hook {name!r}")
            setattr(self, name, fn)


class EarlyStopping(Callback):
    """Stop ``fit`` when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0, mode: str = "auto"):
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), patience
        self.sign = -1.0 if mode == "max" or (mode == "auto" and "acc" in monitor) else 1.0
        self.best, self.wait = float("inf"), 0

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        score = self.sign * value
        if score < self.best - self.min_delta:
            self.best, self.wait = score, 0
        else:
            self.wait += 1
            if self.wait > self.patience:
                self.model.stop_training = True

"""Learning-rate comparisons: build a run from a plain spec, and train one run of a comparison.

A *spec* is plain data (the server's session config):

    {"dataset": {"name": "spiral", ...options}, "layers": [{"units": 8, "activation": "tanh"}, ...],
     "loss": None | name, "optimizer": {"name": "sgd", "learning_rate": 0.1, ...},
     "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros", "batch_size": 16, "seed": 0}

Every run of a comparison is built from the same spec and seed, so all runs start from the same
initial weights and visit the batches in the same order; only the learning rate differs. Training
steps through ``BatchSchedule`` → forward → backward → apply_gradients, exactly as ``fit`` does.
"""
from __future__ import annotations

import time
from typing import Callable

from . import datasets
from .builder import build_model, check_output, default_loss
from .errors import Diverged
from .training import BatchSchedule, EpochMeter, evaluate


def metrics_for(kind: str) -> list[str]:
    """The reported metrics: accuracy for classification, mean absolute error for regression."""
    return ["acc"] if kind == "classification" else ["mae"]


def build_run(spec: dict, data=None):
    """(data set, compiled model, train targets, test targets) for ``spec``; ValueError on a bad spec."""
    if data is None:
        options = {k: v for k, v in spec["dataset"].items() if k != "name"}
        data = datasets.load(spec["dataset"]["name"], **options)
    loss = spec.get("loss") or default_loss(data.kind, data.n_classes)
    model = build_model(data.x_train.shape[1], spec["layers"], loss, dict(spec["optimizer"]),
                        metrics=metrics_for(data.kind),
                        kernel_initializer=spec.get("kernel_initializer", "glorot_uniform"),
                        bias_initializer=spec.get("bias_initializer", "zeros"), seed=spec.get("seed", 0))
    n_targets = 1 if data.kind == "classification" else data.y_train.shape[1]
    check_output(model, data.kind, data.n_classes, n_targets)
    one_hot = model.loss.targets != "sparse"
    return data, model, data.targets("train", one_hot=one_hot), data.targets("test", one_hot=one_hot)


class _Flusher:
    """Sends batch losses to ``progress`` at most every ``interval`` seconds (and on demand)."""

    def __init__(self, progress: Callable[[dict], None] | None, interval: float):
        self.progress, self.interval, self.pending, self.last = progress, interval, [], time.monotonic()

    def add(self, loss: float) -> None:
        self.pending.append(loss)
        if time.monotonic() - self.last >= self.interval:
            self.flush()

    def flush(self) -> None:
        if self.progress and self.pending:
            self.progress({"event": "batch_loss", "values": self.pending})
        self.pending, self.last = [], time.monotonic()


def train_run(spec: dict, learning_rate: float, epochs: int, progress: Callable[[dict], None] | None = None,
              should_stop: Callable[[], bool] | None = None, flush_interval: float = 0.2) -> dict:
    """Train one run of a comparison: ``spec`` with ``learning_rate`` for ``epochs`` epochs.

    ``progress`` receives {"event": "initial", "loss", ...} (before any update), {"event": "batch_loss",
    "values": [...]} (batch losses in order, a few at a time) and {"event": "epoch", "epoch", "logs"}.
    Returns {"status": "done" | "diverged" | "cancelled", "history": {"loss", ..., "batch_loss"},
    "initial": {...}, "diverged": None | {"step", "epoch", "layer", "quantity"}}.
    """
    data, model, y_train, y_test = build_run({**spec, "optimizer": {**spec["optimizer"],
                                                                    "learning_rate": learning_rate}})
    emit = progress or (lambda message: None)
    initial = {**evaluate(model, data.x_train, y_train),
               **{f"val_{k}": v for k, v in evaluate(model, data.x_test, y_test).items()}}
    emit({"event": "initial", **initial})
    schedule = BatchSchedule(data.n_train, spec.get("batch_size", 32), True, model.shuffle_rng)
    meter, flusher = EpochMeter(model), _Flusher(progress, flush_interval)
    history: dict[str, list] = {"batch_loss": []}
    result = {"status": "done", "history": history, "initial": initial, "diverged": None}
    try:
        for epoch in range(epochs):
            model.epoch = epoch
            meter.reset()
            last = False
            while not last:
                if should_stop is not None and should_stop():
                    result["status"] = "cancelled"
                    return result
                rows, last = schedule.next_batch()
                trace = model.forward(data.x_train[rows], y_train[rows], training=True)
                model.backward()
                model.apply_gradients(return_deltas=False)
                meter.update(trace)
                history["batch_loss"].append(trace.loss)
                flusher.add(trace.loss)
            logs = meter.result()
            logs.update({f"val_{k}": v for k, v in evaluate(model, data.x_test, y_test).items()})
            for key, value in logs.items():
                history.setdefault(key, []).append(value)
            flusher.flush()
            emit({"event": "epoch", "epoch": epoch + 1, "logs": logs})
    except Diverged as exc:
        result.update(status="diverged", diverged=exc.to_dict())
    finally:
        flusher.flush()
    return result


def range_test_run(spec: dict, min_lr: float, max_lr: float, steps: int | None = None,
                   progress: Callable[[dict], None] | None = None,
                   should_stop: Callable[[], bool] | None = None) -> dict:
    """The LR range test (engine.lr_finder) on a fresh model built from ``spec``, over one pass."""
    from .lr_finder import range_test
    data, model, y_train, _ = build_run(spec)
    result = range_test(model, data.x_train, y_train, batch_size=spec.get("batch_size", 32), min_lr=min_lr,
                        max_lr=max_lr, steps=steps, progress=progress, should_stop=should_stop)
    result["status"] = result["stopped"] if result["stopped"] in ("cancelled", "diverged") else "done"
    return result

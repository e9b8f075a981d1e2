"""Learning-rate comparisons: build a run from a plain spec, and train one run of a comparison.

A *spec* is plain data (the server's session config):

    {"dataset": {"name": "spiral", ...options}, "layers": [{"units": 8, "activation": "tanh"}, ...],
     "loss": None | name, "optimizer": {"name": "sgd", "learning_rate": 0.1, ...},
     "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros", "batch_size": 16, "seed": 0}

Every run of a comparison is built from the same spec and seed, so all runs start from the same
initial weights and visit the batches in the same order; only the learning rate differs. A run
trains through engine/runner.py's ``Run``, the steps ``fit`` and the server take.
"""
from __future__ import annotations

import json
import math
import time
from typing import Callable

from . import datasets, fast
from .builder import binary_unit, build_model, check_output, default_loss
from .errors import Diverged
from .meters import evaluate
from .runner import Run


def metrics_for(kind: str) -> list[str]:
    """The reported metrics: accuracy for classification, mean absolute error for regression."""
    return ["acc"] if kind == "classification" else ["mae"]


DIVERGE_FACTOR = 4.0    # a run diverged once its (smoothed) batch loss exceeds this × its first batch loss
DIVERGE_BETA = 0.9      # the smoothing: a bias-corrected moving average (one noisy batch is not enough)
_DATA: dict[str, object] = {}       # per process: the last data sets built (a worker reuses them)
_INITIAL: dict[str, dict] = {}      # per process: initial metrics per spec without its learning rate
_KEEP = 2


def _remember(cache: dict, key: str, value):
    cache.pop(key, None)
    cache[key] = value
    while len(cache) > _KEEP:
        cache.pop(next(iter(cache)))
    return value


def _key(obj) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def load_data(dataset: dict, cache: bool = False):
    """The data set of a spec's "dataset"; with ``cache`` the process keeps the last few it built
    (comparison workers train many runs on the same data: MNIST is converted to float32 once)."""
    options = {k: v for k, v in dataset.items() if k != "name"}
    if not cache:
        return datasets.load(dataset["name"], **options)
    key = _key(dataset)
    if key in _DATA:
        return _DATA[key]
    return _remember(_DATA, key, datasets.load(dataset["name"], **options))


def build_run(spec: dict, data=None, cache: bool = False):
    """(data set, compiled model, train targets, test targets) for ``spec``; ValueError on a bad spec."""
    if data is None:
        data = load_data(spec["dataset"], cache)
    loss = spec.get("loss") or default_loss(data.kind, data.n_classes)
    model = build_model(data.x_train.shape[1], spec["layers"], loss, dict(spec["optimizer"]),
                        metrics=metrics_for(data.kind),
                        kernel_initializer=spec.get("kernel_initializer", "glorot_uniform"),
                        bias_initializer=spec.get("bias_initializer", "zeros"), seed=spec.get("seed", 0),
                        regularization=spec.get("regularization"))
    n_targets = 1 if data.kind == "classification" else data.y_train.shape[1]
    check_output(model, data.kind, data.n_classes, n_targets)
    fast.use_fast_step(model)        # the server's steps and comparison runs: engine.fast's numbers are the reference's
    if binary_unit(model, data.kind, data.n_classes):     # 0/1 column targets for one sigmoid unit
        return data, model, *(data.targets(split, one_hot=False).astype(model.dtype).reshape(-1, 1)
                              for split in ("train", "test"))
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


def train_run(spec: dict, learning_rate: float | None, epochs: int, progress: Callable[[dict], None] | None = None,
              should_stop: Callable[[], bool] | None = None, flush_interval: float = 0.2,
              finish: Callable | None = None) -> dict:
    """Train one run of a comparison: ``spec`` with ``learning_rate`` (None: the spec's optimizer as it
    is) for ``epochs`` epochs; ``finish(model, data)`` adds its dict to the result of a run that
    finished with finite weights (done, or stopped when its loss exploded).

    ``progress`` receives {"event": "initial", "loss", ...} (before any update), {"event": "batch_loss",
    "values": [...]} (batch losses in order, a few at a time) and {"event": "epoch", "epoch", "logs"}.
    Returns {"status": "done" | "diverged" | "cancelled", "history": {"loss", ..., "batch_loss"},
    "initial": {...}, "diverged": None | {"step", "epoch", "layer", "quantity", "reason"}}.

    A run is diverged (and stops) when a value becomes non-finite (the engine's ``Diverged``) or, as in
    fast.ai's range test, when its batch loss, smoothed (bias-corrected moving average, β = 0.9),
    exceeds ``DIVERGE_FACTOR`` × its first batch loss: softmax + cross-entropy with a huge rate
    saturates at a large finite loss and would otherwise never be marked. The finiteness tests run
    as in fit (at the next forward), so the step whose update made a weight non-finite still adds
    its batch loss (computed before that update, finite) to the curve.
    """
    if learning_rate is not None:
        spec = {**spec, "optimizer": {**spec["optimizer"], "learning_rate": learning_rate}}
    data, model, y_train, y_test = build_run(spec, cache=True)
    emit = progress or (lambda message: None)
    # Every run of a comparison starts from the same weights: the metrics before training are the same,
    # computed once per process and spec (the optimizer and the batch size cannot change them).
    key = _key({k: v for k, v in spec.items() if k not in ("optimizer", "batch_size")})
    initial = _INITIAL.get(key)
    if initial is None:
        initial = _remember(_INITIAL, key, {
            **evaluate(model, data.x_train, y_train),
            **{f"val_{k}": v for k, v in evaluate(model, data.x_test, y_test).items()}})
    initial = dict(initial)
    emit({"event": "initial", **initial})
    run = Run(model, data.x_train, y_train, spec.get("batch_size", 32), validation=(data.x_test, y_test))
    flusher = _Flusher(progress, flush_interval)
    result = {"status": "done", "history": run.history, "initial": initial, "diverged": None}
    smooth = {"first": None, "mean": 0.0, "n": 0}

    def cancelled() -> bool:
        if should_stop is not None and should_stop():
            result["status"] = "cancelled"
            return True
        return False

    def on_batch(trace, batch) -> bool:
        """Send the batch loss on; True (stop) once the smoothed loss has exploded."""
        loss = float(trace.loss)
        flusher.add(trace.loss)
        first = smooth["first"] = loss if smooth["first"] is None else smooth["first"]
        smooth["n"] += 1
        smooth["mean"] = DIVERGE_BETA * smooth["mean"] + (1.0 - DIVERGE_BETA) * loss
        smoothed = smooth["mean"] / (1.0 - DIVERGE_BETA ** smooth["n"])
        if not math.isfinite(smoothed) or smoothed > DIVERGE_FACTOR * first:
            result.update(status="diverged", diverged={
                "step": model.step, "epoch": model.epoch, "layer": None, "quantity": "loss",
                "reason": f"loss exploded: smoothed batch loss {smoothed:.4g} > {DIVERGE_FACTOR:g} × "
                          f"the first batch loss {first:.4g}"})
            return True
        return False

    try:
        for _ in range(epochs):
            run.run_epoch(on_batch=on_batch, should_stop=cancelled)
            if result["status"] != "done":
                break
            flusher.flush()
            emit({"event": "epoch", "epoch": run.epoch, "logs": run.last_logs})
        if finish is not None and result["status"] != "cancelled":
            result.update(finish(model, data))
    except Diverged as exc:
        where = f" in layer {exc.layer}" if exc.layer is not None else ""
        result.update(status="diverged", diverged={**exc.to_dict(),
                                                   "reason": f"{exc.quantity} became non-finite (NaN or ∞){where}"})
    finally:
        flusher.flush()
    return result


def range_test_run(spec: dict, min_lr: float, max_lr: float, steps: int | None = None,
                   progress: Callable[[dict], None] | None = None,
                   should_stop: Callable[[], bool] | None = None) -> dict:
    """The LR range test (engine.lr_finder) on a fresh model built from ``spec``, over one pass."""
    from .lr_finder import range_test
    data, model, y_train, _ = build_run(spec, cache=True)
    result = range_test(model, data.x_train, y_train, batch_size=spec.get("batch_size", 32), min_lr=min_lr,
                        max_lr=max_lr, steps=steps, progress=progress, should_stop=should_stop)
    result["status"] = result["stopped"] if result["stopped"] in ("cancelled", "diverged") else "done"
    return result

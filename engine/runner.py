"""One training run, step by step: the batch order, forward → loss → backward → update, the epoch's meter.

Every caller trains through ``Run``: ``fit`` (engine/training.py), the web server's Step, Epoch and
Play (app/sessions.py), comparison runs (engine/compare.py) and the learning-rate range test
(engine/lr_finder.py). A run's numbers depend only on the model (its weights, optimizer state and
seeded generators) and the data, never on who drives it: the same configuration and seed give the
same weights bit for bit whether the steps are taken one phase at a time, one step at a time or an
epoch at once, with or without ΔW, with the finiteness tests at once or deferred
(tests/engine/test_runner.py). The step itself is the model's FastStep (engine/fast), whose numbers
are ReferenceStep's (engine/step.py, where the lecture's equations are read).

The hooks of ``run_epoch``: ``should_stop()`` before each batch, ``on_batch(trace, batch)`` after
each update (True stops the epoch); the meter (EpochMeter, or fit's batched LabelMeter); the
engine's ``Diverged`` for a non-finite value (the caller catches it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import fast
from .activations import overflow_ignored
from .fast.meters import LabelMeter
from .layers import Dropout
from .meters import EpochMeter, class_labels, evaluate
from .schedule import BatchSchedule
from .step import mean_loss
from .trace import Trace

__all__ = ["Pending", "Position", "Run"]


@dataclass
class Position:
    """Where a run stands between steps: the epoch's row order, how far it got, the dropout masks'
    generator (what a mid-cycle export saves, so the imported run draws the same batch again)."""

    order: np.ndarray | None        # this epoch's permutation of the rows (None: not drawn yet)
    position: int                   # rows of this epoch already handed out
    batches: int                    # batches of this epoch already handed out
    dropout: dict | None            # the dropout generator's state (None without dropout)


@dataclass
class Pending:
    """The batch of a step whose forward ran and whose update has not."""

    rows: np.ndarray                # its training rows
    last: bool                      # the epoch's last minibatch: its update ends the epoch
    scheduled: bool                 # drawn from the schedule (False: a one-off batch of chosen rows)
    before: Position | None         # where the run stood before it was drawn (scheduled batches)


class Run:
    """Training ``model`` on ``x``, ``y``: ``step()`` takes the next minibatch through forward →
    backward → update, ``run_epoch()`` the rest of the epoch; ``forward``/``backward``/``update``
    one phase at a time (the server's buttons). Each update adds the batch loss to ``history`` and
    the batch to the epoch's meter; the epoch's last update ends the epoch (``end_epoch``)."""

    def __init__(self, model, x, y, batch_size: int = 32, shuffle: bool = True, validation=None,
                 batch_losses: bool = True, stepper=None):
        model._require_compiled()
        self.model = model
        self.x = model.prepare_x(x)                     # checked once, not at every batch
        self.y = model.prepare_y(y, self.x.shape[0])
        self.labels = class_labels(model, self.y)       # class indices for the loss's label path
        self.validation = None if validation is None else (model.prepare_x(validation[0]), validation[1])
        self.schedule = BatchSchedule(self.x.shape[0], batch_size, shuffle, model.shuffle_rng)
        # batch_losses=False (fit, when no callback reads each batch's loss): the loss and accuracy
        # worked out a block of batches at a time (engine.fast.meters), each trace's loss left unset
        self.stored = not batch_losses and LabelMeter.usable(model, self.labels)
        self.meter = LabelMeter(model, self.labels, self.x.shape[0]) if self.stored else EpochMeter(model)
        self.stepper = stepper or fast.step_of(model)   # FastStep (ReferenceStep for the tests)
        self.dropout = any(isinstance(layer, Dropout) for layer in model.layers)
        self.epoch = 0                                  # epochs completed (fit starts at initial_epoch)
        self.last_logs: dict[str, float] = {}           # the last completed epoch's logs
        keys = ["loss", *model.metrics]
        self.history: dict[str, list] = {**{k: [] for k in keys}, "batch_loss": []}
        if self.validation is not None:
            self.history.update({f"val_{k}": [] for k in keys})
        self.pending: Pending | None = None
        self.last_update: Pending | None = None        # the batch of the last update (one-off or not)

    # ----- one phase at a time ------------------------------------------------------------------
    def position(self) -> Position:
        s = self.schedule
        dropout = self.model.dropout_rng.bit_generator.state if self.dropout else None
        return Position(s.order, s.position, s.batches, dropout)

    def forward(self, rows=None) -> Trace:
        """Forward and loss on the epoch's next minibatch, or on ``rows`` (a one-off batch: it leaves
        the run alone, its dropout masks drawn without advancing the generator, its update counted
        in no epoch)."""
        if rows is None:
            before = self.position()
            rows, last = self.schedule.next_batch()
            self.pending = Pending(rows, last, True, before)
        else:
            rows = np.asarray(rows, dtype=np.int64)
            self.pending = Pending(rows, False, False, None)
        self.model.epoch = self.epoch
        generator = self.model.dropout_rng.bit_generator
        saved = generator.state if not self.pending.scheduled and self.dropout else None
        try:
            trace = self.stepper.forward(self.x.take(rows, axis=0), training=True)
        finally:
            if saved is not None:
                generator.state = saved
        y = self.y.take(rows, axis=0)
        if self.stored and self.pending.scheduled:
            trace.y = y                 # the loss comes a block of batches later (LabelMeter)
            self.meter.add(rows, trace.y_pred)
        else:
            self.stepper.fill_loss(trace, y, None if self.labels is None else self.labels[rows])
        return trace

    def backward(self, check: bool = True) -> Trace:
        """δ and every ∂cost/∂W, ∂cost/∂b of the pending batch (``check=False``: tested later)."""
        return self.stepper.backward(check=check)

    def update(self, return_deltas: bool = False, check: bool = True) -> Trace:
        """The optimizer's update, then the bookkeeping: the batch loss, the meter, the epoch's end."""
        trace = self.stepper.apply_gradients(return_deltas=return_deltas, check=check)
        pending, self.pending = self.pending, None
        self.last_update = pending
        if not (self.stored and pending.scheduled):
            self.history["batch_loss"].append(trace.loss)
            if pending.scheduled:
                self.meter.update(trace, None if self.labels is None else self.labels[pending.rows])
        if pending.last:
            self.end_epoch(trace)
        return trace

    def step(self, return_deltas: bool = False, check: bool = True) -> Trace:
        """forward → backward → update on the epoch's next minibatch."""
        self.forward()
        self.backward(check=check)
        return self.update(return_deltas=return_deltas, check=check)

    def end_epoch(self, trace: Trace | None = None) -> dict[str, float]:
        """The epoch's logs (the meter's means, val_* on the validation data), kept in ``history``."""
        self.stepper.verify_weights()   # the epoch's last update, which no forward has tested
        logs = self.meter.result()
        if self.stored and trace is not None:    # the newest trace's loss, as a step-by-step run sets it
            trace.per_sample_loss = self.meter.last_losses
            trace.loss = mean_loss(self.meter.last_losses)
        if self.validation is not None:
            logs.update({f"val_{k}": v for k, v in evaluate(self.model, *self.validation).items()})
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        self.epoch += 1
        self.last_logs = logs
        self.meter.reset()
        return logs

    # ----- an epoch at once ---------------------------------------------------------------------
    def run_epoch(self, on_batch: Callable[[Trace, int], bool | None] | None = None,
                  should_stop: Callable[[], bool] | None = None, leave_last: bool = False) -> Trace | None:
        """The rest of the current epoch (a whole one at its start), or until a hook stops it;
        ``leave_last`` stops before the epoch's last minibatch (the caller takes it, e.g. phase by
        phase to show it). Finiteness tests are deferred to the next forward and the epoch's end.
        Returns the last step's trace (None if no step ran)."""
        trace, start = None, self.epoch
        with overflow_ignored():        # sigmoid's e^(−z) → inf is right; a divergence raises Diverged
            while self.epoch == start and not (leave_last and self.schedule.next_is_last):
                if should_stop is not None and should_stop():
                    break
                batch = self.schedule.batch_index
                trace = self.step(check=False)
                if on_batch is not None and on_batch(trace, batch):
                    break
            if self.epoch == start:     # stopped early: test the last update now (the end of an
                self.stepper.verify_weights()   # epoch tested it already)
        return trace

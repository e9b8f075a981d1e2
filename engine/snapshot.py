"""A run's whole training state between two steps, to go back to: ``capture(run)`` and ``restore(run, state)``.

Everything a next step depends on is here (engine/runner.py's steps are deterministic given it):
the weights, the optimizer's iteration count and slots, where the epoch stands in its row order,
the batch size, the shuffle and dropout generators, the step and epoch counters and the epoch's
meter. Restoring it and stepping on gives the same weights, bit for bit, as the run that was
captured (tests/engine/test_snapshot.py). The curves (``run.history``) are not part of it: they
only grow, so whoever keeps snapshots keeps the curves and cuts them to the step.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .trace import Phase

__all__ = ["RunState", "capture", "restore"]


@dataclass(frozen=True)
class RunState:
    """One snapshot; its arrays are copies (the epoch's row order is shared: it is never changed
    in place, a new epoch draws a new one)."""

    step: int                       # updates applied
    epoch: int                      # epochs completed
    weights: list[np.ndarray]       # get_weights() order, Keras layout
    optimizer: dict                 # Optimizer.get_state(): iterations and slots
    order: np.ndarray | None        # the epoch's row order (None: not drawn yet)
    position: int                   # rows of this epoch already handed out
    batches: int                    # batches of this epoch already handed out
    batch_size: int
    shuffle_rng: dict               # bit_generator.state of the batch order's generator
    dropout_rng: dict               # ... and of the dropout masks' generator
    meter: tuple[int, dict]         # the epoch's meter so far: (count, sums)
    last_logs: dict                 # the last completed epoch's logs

    @cached_property
    def nbytes(self) -> int:
        """Bytes of the arrays this snapshot holds of its own (the shared row order not counted).
        Counted once: a timeline adds it up as it keeps and drops keyframes (app/timeline.py)."""
        slots = sum(a.nbytes for arrays in self.optimizer["slots"].values() for a in arrays)
        return sum(w.nbytes for w in self.weights) + slots + 4096     # + the small fields, roughly

    def finite(self) -> bool:
        """Whether every weight is finite (a snapshot taken as a run diverged may not be)."""
        return all(bool(np.isfinite(w).all()) for w in self.weights)


def capture(run) -> RunState:
    """The state of ``run`` now; it must stand between two steps (no forward waiting)."""
    if run.pending is not None:
        raise ValueError("capture() needs a run between two steps; a forward pass is waiting for its update")
    model, s = run.model, run.schedule
    meter = run.meter
    if not hasattr(meter, "sums"):
        raise ValueError("capture() needs a run that meters each batch as it comes (batch_losses=True)")
    return RunState(step=model.step, epoch=run.epoch, weights=model.get_weights(),
                    optimizer=model.optimizer.get_state(), order=s.order, position=s.position,
                    batches=s.batches, batch_size=s.batch_size,
                    shuffle_rng=model.shuffle_rng.bit_generator.state,
                    dropout_rng=model.dropout_rng.bit_generator.state,
                    meter=(meter.count, dict(meter.sums)), last_logs=dict(run.last_logs))


def restore(run, state: RunState) -> None:
    """Put ``run`` back into ``state`` (its model's optimizer must be of the class and settings the
    state was captured with: the caller sets that first). The history is left to the caller."""
    model, s = run.model, run.schedule
    model.set_weights(state.weights)
    slots = {k: [a.copy() for a in v] for k, v in state.optimizer["slots"].items() if v}   # none yet: made
    model.optimizer.set_state({"iterations": state.optimizer["iterations"], "slots": slots},  # on the next update
                              shapes=[w.shape for w in state.weights])
    s.order, s.position, s.batches, s.batch_size = state.order, state.position, state.batches, state.batch_size
    model.shuffle_rng.bit_generator.state = state.shuffle_rng
    model.dropout_rng.bit_generator.state = state.dropout_rng
    run.meter.count, run.meter.sums = state.meter[0], dict(state.meter[1])
    run.last_logs = dict(state.last_logs)
    run.epoch, model.step, model.epoch = state.epoch, state.step, state.epoch
    run.pending = None
    model.phase, model.trace = Phase.READY, None

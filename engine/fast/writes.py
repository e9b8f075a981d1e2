"""Where an update writes the new weights: over the old ones, or into a kept vector then copied over.

An update reads W and writes W. With more than one BLAS thread, another core read part of W in
this step's forward (its share of z = a·K), and on this machine (2 cores, 2 BLAS threads) storing
into cache lines another core holds cost about 20 ns a line: plain SGD's ``w -= lr * g`` on MNIST
784-128-64-10 took 125-160 µs instead of 17 with one thread. Writing the new weights into a kept
vector that only this thread touches and then copying it over W (one memcpy, which writes whole
lines without asking for them first) took 65-75 µs. With one BLAS thread the copy is only more work
(+10 µs a step, 2 % of a batch-32 epoch). Neither is right everywhere, so ``WriteChoice`` times both
on alternate updates and keeps the faster; it tries again every ``EVERY`` updates.

The numbers are the same bits either way: each rule here is the optimizer's ``update`` with its
final in-place operation on W written into a scratch vector instead (``w -= x`` is
``np.subtract(w, x, out=w)``; here ``out`` is the scratch vector), for hyperparameters that are
Python floats (as the constructors make them); any other optimizer's ``update``, or one whose
hyperparameters were set to NumPy scalars, runs on a copy of W (tests/engine/test_fast_writes.py).
"""
from __future__ import annotations

import statistics
import time

import numpy as np

from ..optimizers import SGD, Adam
from .rules import Scratch, adam_update, python_floats


def sgd_into(opt: SGD, w, g, s, lr: float, scratch: Scratch) -> np.ndarray:
    """SGD.update(w, g, s, lr), the new W written into a scratch vector (returned), W untouched."""
    if type(lr) is not float or not python_floats(opt, "momentum"):   # NumPy scalars: SGD.update's own
        return update_into(opt, w, g, s, lr, scratch)                     # expressions (type promotion)
    a, b = scratch.get(w)
    lr_g = np.multiply(g, lr, out=a)           # η·g
    mu = opt.momentum
    if not mu:
        return np.subtract(w, lr_g, out=a)     # W − η·g
    m = s.momentum
    m *= mu
    m -= lr_g                                  # m ← μ·m − η·g
    if opt.nesterov:
        step = np.multiply(m, mu, out=b)
        step -= lr_g
        return np.add(w, step, out=b)          # W + μ·m − η·g
    return np.add(w, m, out=a)                 # W + m


def adam_into(opt: Adam, w, g, s, lr: float, scratch: Scratch) -> np.ndarray:
    """Adam.update (rules.adam_update), the new W written into a scratch vector (returned)."""
    if not python_floats(opt, "beta_1", "beta_2", "epsilon"):
        return update_into(opt, w, g, s, lr, scratch)
    return adam_update(opt, w, g, s, lr, scratch, into=True)


def update_into(opt, w, g, s, lr: float, scratch: Scratch) -> np.ndarray:
    """Any optimizer's own ``update``, run on a copy of W kept in a scratch vector (returned)."""
    copy = scratch.get(w)[0]
    np.copyto(copy, w)
    opt.update(copy, g, s, lr)
    return copy


def into_rule(optimizer):
    """The rule that writes ``optimizer``'s new weights into a scratch vector."""
    update = type(optimizer).update
    if update is SGD.update:
        return sgd_into
    if update is Adam.update:
        return adam_into
    return update_into


class WriteChoice:
    """In place or copied over: both ways timed on alternate updates, the faster kept."""

    TRIALS = 8                # timed updates of each way per trial (their medians are compared)
    EVERY = 4096              # updates between trials
    MARGIN = 0.95             # the copy is kept only if its median is below this share of in place's

    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self.copy = False                      # the way in use between trials
        self.until = 0                         # updates before the next trial starts
        self.times: tuple[list, list] = ([], [])   # a trial's seconds: in place, copied

    def pin(self, copy: bool) -> None:
        """Always write one way from now on (benchmarks and tests compare the two ways)."""
        self.copy, self.until = copy, float("inf")

    def next(self) -> tuple[bool, bool]:
        """(copy this update, time it)."""
        if self.until > 0:
            self.until -= 1
            return self.copy, False
        in_place, copied = self.times
        return len(copied) < len(in_place), True

    def record(self, copied: bool, seconds: float) -> None:
        """One timed update's seconds; the trial's end picks the way."""
        in_place, copies = self.times
        (copies if copied else in_place).append(seconds)
        if len(copies) >= self.TRIALS and len(in_place) >= self.TRIALS:
            self.copy = statistics.median(copies) < self.MARGIN * statistics.median(in_place)
            self.times = ([], [])
            self.until = self.EVERY

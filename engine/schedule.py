"""The order in which an epoch visits the training rows (``BatchSchedule``), seeded by the model's
``shuffle_rng``: the same seed gives the same batches, whoever asks for them (engine/runner.py)."""
from __future__ import annotations

import numpy as np

__all__ = ["BatchSchedule"]


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
    def next_is_last(self) -> bool:
        """Whether the next batch handed out is the epoch's last one."""
        return self.n - self.position <= self.batch_size

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

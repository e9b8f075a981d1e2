"""The batched loss meter: engine.meters.EpochMeter's numbers, a block of batches at a time.

``LabelMeter`` is fit's shortcut for cross-entropy with class labels and accuracy metrics only:
a step just stores ŷ (one copy), and the per-sample losses and hits are worked out together, for
many batches at once, when the numbers are asked for — with exactly the numbers of ``EpochMeter``.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..meters import LABEL_METRICS as _LABEL_METRICS


class LabelMeter:
    """EpochMeter's numbers for fit with class ``labels``, computed a block of batches at a time.

    ``add`` stores the batch's ŷ and row indices (no loss or argmax per step); ``result`` (or a
    full buffer) turns the stored rows into per-sample losses and hits: each batch's mean loss
    is the sum of its per-sample losses (np.add.reduce, in ŷ's dtype) / its size, as engine.step.mean_loss
    computes a batch's loss, and the epoch sums add them batch by batch as ``EpochMeter`` does.
    (np.add.reduceat would sum in another order: its last bits differ.)
    """

    ROWS = 1 << 20     # at most this many ŷ values are stored before they are worked out

    @staticmethod
    def usable(model, labels) -> bool:
        """Whether the shortcut applies: labels, only accuracy metrics, no regularisation penalty."""
        return labels is not None and all(type(m) in _LABEL_METRICS for m in model.metrics.values()) and \
            not any(d.kernel_regularizer or d.bias_regularizer for d in model.dense_layers)

    def __init__(self, model, labels: np.ndarray, n_rows: int):
        self.model, self.labels = model, labels
        rows = max(1, min(n_rows, self.ROWS // max(model.output_units, 1)))
        self.y_pred = np.empty((rows, model.output_units), model.dtype)   # stored ŷ, batch after batch
        self.rows = np.empty(rows, np.int64)                               # their training-row indices
        self.last_losses = None      # per-sample losses of the newest batch worked out
        self.reset()

    def reset(self) -> None:
        self.count, self.stored, self.sizes = 0, 0, []
        self.sums = {"loss": 0.0, **{name: 0.0 for name in self.model.metrics}}

    def add(self, rows: np.ndarray, y_pred: np.ndarray) -> None:
        """Store one batch (``rows`` index the training data; ``y_pred`` is its ŷ)."""
        n = rows.shape[0]
        if self.stored + n > self.rows.shape[0]:
            self._work_out()
            if n > self.rows.shape[0]:                   # a batch bigger than the buffer
                self.y_pred = np.empty((n, y_pred.shape[1]), y_pred.dtype)
                self.rows = np.empty(n, np.int64)
        self.y_pred[self.stored:self.stored + n] = y_pred
        self.rows[self.stored:self.stored + n] = rows
        self.stored += n
        self.sizes.append(n)

    def _work_out(self) -> None:
        """Add the stored batches to the epoch sums and empty the buffer."""
        if not self.sizes:
            return
        stored, sizes = self.stored, self.sizes
        labels, y_pred = self.labels[self.rows[:stored]], self.y_pred[:stored]
        per_sample = self.model.loss.per_sample_labels(labels, y_pred)
        hits = np.argmax(y_pred, axis=-1) == labels if self.model.metrics else None
        sums, start = self.sums, 0
        for n, k in _runs(sizes):            # k batches of n rows: one reduction per row of a (k, n) view
            end = start + n * k
            means = (np.add.reduce(per_sample[start:end].reshape(k, n), axis=1) / n).tolist()
            counts = np.count_nonzero(hits[start:end].reshape(k, n), axis=1).tolist() if hits is not None else ()
            for j in range(k):
                sums["loss"] += means[j] * n
                for name in self.model.metrics:
                    sums[name] += float(counts[j])
            self.count += n * k
            start = end
        self.last_losses = per_sample[stored - sizes[-1]:]
        self.stored, self.sizes = 0, []

    def result(self) -> dict[str, float]:
        self._work_out()
        return {k: v / max(self.count, 1) for k, v in self.sums.items()}

    def running_logs(self) -> Mapping:
        """The epoch's means so far, worked out only if read before the next batch (fit gives these
        to the progress bar, which reads them only when it redraws; other callbacks get a dict)."""
        return _LazyLogs(self.result)


def _runs(sizes: list[int]):
    """(size, count) for each run of equal consecutive batch sizes."""
    run_size, count = sizes[0], 0
    for n in sizes:
        if n != run_size:
            yield run_size, count
            run_size, count = n, 0
        count += 1
    yield run_size, count


class _LazyLogs(Mapping):
    """A read-only dict whose values are computed on first access."""

    def __init__(self, compute):
        self._compute, self._values = compute, None

    def _get(self) -> dict:
        if self._values is None:
            self._values = self._compute()
        return self._values

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self):
        return len(self._get())

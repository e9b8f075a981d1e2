"""Every answer has a bounded size: when a frame's tensors would take more than the budget
(``Settings.max_answer_bytes``), its largest tensors are sent as summaries instead of values.

A summary is ``{"shape", "label", "summary": {"min", "max", "mean", "std"}, "omitted": true}``; the
answer lists them under ``"omitted"`` with a ``"hint"`` naming the options that get them in full
(``fields``, ``layers``, ``encoding=b64``). Small networks never come near the budget and keep
their plain JSON. ``frames.render`` measures a frame first with ``Measure`` (same walk, nothing
encoded), then renders it with the chosen tensors summarised.
"""
from __future__ import annotations

import numpy as np

from .tensors import finite

# Bytes per entry as sent: orjson writes a float32 value as up to ~20 characters with its comma;
# b64 float32 is 4 bytes × 4/3; int8 with a scale 1 byte × 4/3.
BYTES = {"json": 20.0, "b64": 16 / 3, "int8q": 4 / 3}
HINT = ("some tensors were too large for one answer and come as summaries (min, max, mean, std): ask "
        "for fewer with ?fields=W,a,delta and &layers=1,2, or for float32 base64 with ?encoding=b64")


class Measure:
    """Stands in for ``tensors.Batch`` during a measuring walk: records each tensor's size."""

    def __init__(self):
        self.sizes: dict[int, tuple[float, np.ndarray, str | None]] = {}

    def record(self, arr: np.ndarray, label, encoding: str, quantize) -> None:
        kind = "int8q" if encoding == "b64" and quantize is not None and arr.size > quantize else encoding
        self.sizes[id(arr)] = (arr.size * BYTES[kind], arr, label)

    def total(self) -> float:
        return sum(size for size, _, _ in self.sizes.values())

    def over(self, budget: int) -> set[int]:
        """The ids of the largest tensors to summarise so that the rest fit ``budget`` bytes."""
        chosen, total = set(), self.total()
        for size, arr, _ in sorted(self.sizes.values(), key=lambda item: -item[0]):
            if total <= budget:
                break
            chosen.add(id(arr))
            total -= size
        return chosen


def summary(arr: np.ndarray, label) -> dict:
    """A tensor too large to send: its shape, label and four numbers (finite ones only)."""
    values = arr[np.isfinite(arr)] if arr.dtype.kind == "f" else arr
    stats = {"min": None, "max": None, "mean": None, "std": None}
    if values.size:
        stats = {"min": finite(values.min()), "max": finite(values.max()),
                 "mean": finite(values.mean(dtype=np.float64)), "std": finite(values.std(dtype=np.float64))}
    return {"shape": list(arr.shape), "label": label, "summary": stats, "omitted": True}

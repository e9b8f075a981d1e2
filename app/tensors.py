"""NumPy arrays → JSON: {"shape", "values", "label"}; values as nested lists or base64 float32.

No NaN or infinity is ever sent: a non-finite entry becomes null and the tensor gets
``"nonfinite": true`` (the session stops at the first non-finite value, so this is a guard only).
"""
from __future__ import annotations

import base64
import math

import numpy as np

ENCODINGS = ("json", "b64")
RAW_DTYPES = frozenset("?bBhHiIlLqQfd")    # dtypes orjson writes straight from the array (see responses)


def finite(value):
    """A float for JSON, or None when it is NaN, ±inf or None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def quantize_int8(arr: np.ndarray) -> tuple[np.ndarray, float]:
    """(q, scale): ``arr`` (finite) as int8 q with value ≈ q · scale, scale = max|x| / 127 (1 for all
    zeros), so the error is at most max|x| / 254: the "int8q" tensors of b64 and bin frames."""
    top = float(np.max(np.abs(arr))) if arr.size else 0.0
    scale = top / 127.0 if top > 0 else 1.0
    return np.rint(arr * (1.0 / scale)).astype(np.int8), scale


def encode(arr, label: str | None = None, encoding: str = "json", raw: bool = False,
           quantize_over: int | None = None) -> dict:
    """{"shape", "values", "label"}: nested lists whose nesting matches shape, or with encoding "b64"
    the float32 little-endian bytes in row-major order, base64-encoded, with "dtype": "float32le".

    One ``tolist()`` per tensor (float32 entries become the Python floats of the same value); the
    finiteness check is one vectorised pass, so nothing walks the values again afterwards.
    ``raw``: keep the (C-contiguous) array itself as "values" for ``responses.dumps`` to write with
    orjson (the same JSON as ``tolist()`` gives). ``quantize_over``: with "b64",
    tensors of more entries than this are sent as int8 with a scale (``"dtype": "int8q"``, value ≈
    q · scale, error ≤ max|x| / 254): a quarter of the bytes, for the heat maps of big layers."""
    arr = np.asarray(arr)
    out: dict = {"shape": list(arr.shape)}
    if label is not None:
        out["label"] = label
    mask = np.isfinite(arr) if arr.dtype.kind in "fc" else None
    ok = mask is None or bool(mask.all())
    if not ok:
        out["nonfinite"] = True
        arr = np.where(mask, arr, 0.0)
    if encoding == "b64" and quantize_over is not None and arr.size > quantize_over and arr.dtype.kind == "f":
        q, scale = quantize_int8(arr)
        out.update(dtype="int8q", scale=scale, values=base64.b64encode(q.tobytes()).decode("ascii"))
        return out
    if encoding == "b64":
        out["dtype"] = "float32le"
        out["values"] = base64.b64encode(np.ascontiguousarray(arr, dtype="<f4").tobytes()).decode("ascii")
        return out
    if not ok:
        out["values"] = _nulls(arr.tolist(), mask.tolist())
    elif raw and arr.dtype.char in RAW_DTYPES and arr.ndim:
        # float32 as float64: the JSON is the same as tolist()'s (each value exactly the float32 one,
        # so a client recomputing in float64 gets the engine's numbers), only written much faster
        out["values"] = np.ascontiguousarray(arr, dtype=np.float64 if arr.dtype == np.float32 else None)
    else:
        out["values"] = arr.tolist()
    return out


class Batch:
    """Float tensors of one answer encoded together: one conversion and one finiteness check for all.

    ``add`` answers the tensor's {"shape", "label"} at once and fills in "values" (and "dtype") at
    ``fill``: the arrays are joined into one float64 (JSON, for orjson) or float32 (b64) buffer, so
    the per-tensor cost is a slice instead of a conversion and a check. The answer is the same as
    ``encode``'s: if any value is not finite (or does not fit float32 for b64), every tensor of the
    batch goes through ``encode`` instead."""

    def __init__(self, encoding: str):
        self.encoding, self.items = encoding, []
        self.omit: set[int] = set()          # ids of arrays sent as summaries (see ``budget``)
        self.omitted: list[dict] = []

    @staticmethod
    def takes(arr, encoding: str, raw: bool) -> bool:
        """Whether ``arr`` can join a batch: float32/float64 with at least one axis, and an encoding
        that writes it as such (b64, or JSON written by orjson from the array)."""
        return type(arr) is np.ndarray and arr.dtype.char in "fd" and arr.ndim > 0 and \
            (encoding == "b64" or (raw and encoding == "json"))

    def add(self, arr: np.ndarray, label: str | None) -> dict:
        out: dict = {"shape": list(arr.shape)}
        if label is not None:
            out["label"] = label
        self.items.append((out, arr))
        return out

    def fill(self) -> None:
        """Put the values into every tensor added."""
        if not self.items:
            return
        b64 = self.encoding == "b64"
        flat = np.concatenate([arr for _, arr in self.items], axis=None, dtype="<f4" if b64 else np.float64)
        if not np.isfinite(flat).all():
            for out, arr in self.items:
                out.update(encode(arr, out.get("label"), self.encoding, raw=True))
            return
        start, data = 0, memoryview(flat).cast("B") if b64 else None
        for out, arr in self.items:
            end = start + arr.size
            if b64:
                out["dtype"] = "float32le"
                out["values"] = base64.b64encode(data[4 * start:4 * end]).decode("ascii")
            else:
                out["values"] = flat[start:end] if arr.ndim == 1 else flat[start:end].reshape(arr.shape)
            start = end


def _nulls(values, mask):
    """Replace the entries where ``mask`` is False by None (same nesting)."""
    if isinstance(values, list):
        return [_nulls(v, m) for v, m in zip(values, mask)]
    return values if mask else None


def decode(tensor: dict) -> np.ndarray:
    """The array of an ``encode`` answer (nested lists or b64 float32)."""
    shape = tuple(tensor["shape"])
    if tensor.get("dtype") == "int8q":
        raw = base64.b64decode(tensor["values"])
        return (np.frombuffer(raw, dtype=np.int8).astype(np.float32) * np.float32(tensor["scale"])).reshape(shape)
    if tensor.get("dtype") == "float32le":
        raw = base64.b64decode(tensor["values"])
        return np.frombuffer(raw, dtype="<f4").reshape(shape)
    return np.asarray(tensor["values"], dtype=np.float64).reshape(shape)


def sanitize(obj):
    """A copy of plain JSON data with every non-finite float replaced by None."""
    if isinstance(obj, dict):
        return {k: sanitize(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [sanitize(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return finite(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj

"""Binary WebSocket frames (``"encoding": "bin"``): a small JSON header and the tensors' raw bytes.

One binary message is

    uint32 H (little-endian) | H bytes: the message as UTF-8 JSON | 0-3 zero bytes | the buffer

where the buffer starts at the first multiple of 4 after the header, and each tensor in the JSON is
``{"shape", "label", "dtype", "offset"}`` instead of ``"values"``: ``dtype`` "float32le" is
``prod(shape)`` little-endian float32 values at byte ``offset`` of the buffer (row-major), "int8q"
(tensors of more than ``big`` entries while playing, as with b64) is ``prod(shape)`` int8 q with the
value q · ``scale``. Every offset is a multiple of 4, so a client reads a tensor in place
(``new Float32Array(buffer, start + offset, n)``): no base64, no JSON parse of the numbers.

No NaN or infinity ever goes in the buffer: a tensor with a non-finite entry (or a float64 value
beyond float32's range) has those entries as 0 and ``"nonfinite": true``, as ``tensors.encode`` does.
Tensors that are not float arrays (none in a frame today) stay JSON ``values``.
"""
from __future__ import annotations

import numpy as np

from .tensors import encode, quantize_int8

ALIGN = 4


class Binary(bytes):
    """A rendered message to send as a binary WebSocket frame (plain ``bytes`` go as JSON text)."""


def _pad(n: int) -> int:
    return -n % ALIGN


class BinBatch:
    """Stands in for ``tensors.Batch`` when a frame is rendered with encoding "bin": collects the
    float tensors and, at ``fill``, writes them into one buffer and their offsets into the header."""

    def __init__(self):
        self.items: list[tuple[dict, np.ndarray, int | None]] = []
        self.omit: set[int] = set()
        self.omitted: list[dict] = []
        self.buffer = b""

    @staticmethod
    def takes(arr) -> bool:
        return type(arr) is np.ndarray and arr.dtype.kind == "f" and arr.ndim > 0

    def put(self, arr: np.ndarray, label, quantize: int | None) -> dict:
        """The tensor's header entry (its offset filled in at ``fill``); int8 with a scale when it
        has more than ``quantize`` entries. Not a float array: encoded as JSON here."""
        if not self.takes(arr):
            return encode(arr, label, "json")
        out: dict = {"shape": list(arr.shape)}
        if label is not None:
            out["label"] = label
        self.items.append((out, arr, quantize if quantize is not None and arr.size > quantize else None))
        return out

    def fill(self) -> None:
        """Each tensor's bytes at a 4-aligned offset of one buffer; ``dtype``, ``offset`` (and
        ``scale``, ``nonfinite``) into its header entry."""
        parts, size = [], 0
        for out, arr, quantized in self.items:
            data = _float32(arr, out)
            if quantized is not None:
                q, scale = quantize_int8(data)
                raw = q.tobytes()
                out.update(dtype="int8q", scale=scale)
            else:
                raw = data.tobytes()
                out["dtype"] = "float32le"
            out["offset"] = size
            parts.append(raw)
            pad = _pad(len(raw))
            if pad:
                parts.append(b"\0" * pad)
            size += len(raw) + pad
        self.buffer = b"".join(parts)


def _float32(arr: np.ndarray, out: dict) -> np.ndarray:
    """``arr`` as C-ordered little-endian float32 with every non-finite entry (also one that only
    overflows float32) set to 0, and ``out["nonfinite"] = True`` if there was one."""
    with np.errstate(over="ignore", invalid="ignore"):
        data = np.ascontiguousarray(arr, dtype="<f4")
    mask = np.isfinite(data)
    if not mask.all():
        out["nonfinite"] = True
        data = np.where(mask, data, np.float32(0)).astype("<f4")
    return data


def pack(header: bytes, buffer: bytes) -> bytes:
    """One binary message: the header's length, the JSON header, padding to 4, the buffer."""
    head = len(header).to_bytes(4, "little") + header
    return head + b"\0" * _pad(len(head)) + buffer


def unpack(message: bytes) -> tuple[dict, memoryview]:
    """(the JSON header as a dict, the buffer) of one binary message (``pack``'s inverse)."""
    import json
    n = int.from_bytes(message[:4], "little")
    start = 4 + n + _pad(4 + n)
    return json.loads(bytes(message[4:4 + n]).decode("utf-8")), memoryview(message)[start:]


def tensor(entry: dict, buffer) -> np.ndarray:
    """The float32 array of one header entry (JSON ``values`` too, as ``tensors.decode`` reads them)."""
    shape = tuple(entry["shape"])
    if "offset" not in entry:
        return np.asarray(entry["values"], dtype=np.float64).reshape(shape)
    n = int(np.prod(shape, dtype=np.int64))
    if entry["dtype"] == "int8q":
        q = np.frombuffer(buffer, dtype=np.int8, count=n, offset=entry["offset"])
        return (q.astype(np.float32) * np.float32(entry["scale"])).reshape(shape)
    return np.frombuffer(buffer, dtype="<f4", count=n, offset=entry["offset"]).reshape(shape)

"""Turn the engine's trace into answer frames, and frames into JSON.

A frame is a plain dict whose tensors are ``(array, label)`` pairs (copies, so a frame stays valid
after the next step); ``render`` encodes them (``tensors.Batch``, ``tensors.encode``) and can keep only
some layers and fields (what the page draws). Layer entry ``index`` = l holds W(l), b(l), z(l+1), a(l+1), δ(l+1).
"""
from __future__ import annotations

import numpy as np

from engine.utils import to_categorical

from .budget import BYTES, HINT, Measure, summary
from .tensors import Batch, encode, finite, sanitize
from .wire import BinBatch

FORWARD_FIELDS = ("W", "b", "z", "a", "mask")
BACKWARD_FIELDS = ("delta", "dW", "db")
UPDATE_FIELDS = ("dW_applied", "db_applied")
ALWAYS = ("index", "name", "activation")
# Left out of a big layer (more than ``big`` weights) while playing unless the client asks for
# fields: W before the update (W_updated is there), ΔW, Δb and the optimizer's slots. ∂cost/∂W stays
# (the page's gradient health needs it). The batch (x = a(1), y) is always sent: the page draws it,
# e.g. as MNIST digits, whatever the size of the network. The last frame after a Pause is whole.
LEAN_DROP = frozenset({"W", "dW_applied", "db_applied", "slots"})
# Of such a layer, what the page draws row by row: W after the update and ∂cost/∂W. With ``rows``
# (the socket's option: the units the page draws, e.g. MNIST's 32 images of W(1)) a play frame
# carries only their first rows, each with the whole matrix's rows, norm and max |·| (the page's
# gradient norms and colour scales stay those of the whole matrix). MNIST 784-128-64-10 at rows 32:
# 450 KB frames become 300 KB (W(1) and ∂W(1) are 100,352 values each).
ROWS_CUT = ("W_updated", "dW")


_LABELS: dict[tuple[str, int], str] = {}     # (quantity, l) → the trace's label of it: "W(1)", "δ(2)"


def _pair(arr, label: str):
    if arr is None:
        return None
    return (arr.copy() if type(arr) is np.ndarray else np.array(arr, copy=True)), label


def _label(layer, field: str) -> str:
    """``layer.label(field)``, worked out once per quantity and layer index."""
    key = (field, layer.index)
    label = _LABELS.get(key)
    if label is None:
        label = _LABELS[key] = layer.label(field)
    return label


def _entry(layer) -> dict:
    return {"index": layer.index, "name": layer.name, "activation": layer.activation}


def is_lean(weights: int, big: int | None) -> bool:
    """Whether a layer of ``weights`` weights leaves out LEAN_DROP in a play frame (``big``: the
    socket's threshold, None for a whole frame)."""
    return big is not None and weights > big


def builds_lean(model, big: int | None) -> bool:
    """Whether a frame of ``model`` built with ``big`` leaves something out (then it is not whole)."""
    return any(is_lean(dense.kernel.size, big) for dense in model.dense_layers)


def _layers(trace, fields, big: int | None = None) -> list[dict]:
    """Per dense layer: its index, name, activation and the trace's ``fields`` as labelled tensors
    (of a layer above ``big`` weights not those the play frame leaves out: never copied)."""
    out = []
    for layer in trace.layers:
        entry = _entry(layer)
        lean = big is not None and layer.W is not None and is_lean(layer.W.size, big)
        for field in fields:
            if lean and field in LEAN_DROP:
                continue
            pair = _pair(getattr(layer, field), _label(layer, field))
            if pair is not None:
                entry[field] = pair
        out.append(entry)
    return out


def forward_layers(trace, big: int | None = None) -> list[dict]:
    """Per dense layer: W(l), b(l) as used by this forward pass, z(l+1), a(l+1) (and the dropout mask)."""
    return _layers(trace, FORWARD_FIELDS, big)


def backward_layers(trace) -> list[dict]:
    """Per dense layer: δ(l+1) per sample, ∂cost/∂W(l) and ∂cost/∂b(l) (batch means)."""
    return _layers(trace, BACKWARD_FIELDS)


def update_layers(trace, model, big: int | None = None) -> list[dict]:
    """Per dense layer: W(l), b(l) after the update, ΔW(l) and Δb(l) the optimizer applied, its slots
    (of a layer above ``big`` weights only W(l), b(l) and ``update_norms``: a play frame leaves out
    the rest)."""
    out = []
    for layer, dense in zip(trace.layers, model.dense_layers):
        entry = _entry(layer)
        entry["W"] = _pair(dense.W, _label(layer, "W"))
        if dense.use_bias:
            entry["b"] = _pair(dense.bias, _label(layer, "b"))
        out.append(entry)
        if is_lean(dense.kernel.size, big):
            if layer.dW_applied is not None:
                entry["update_norms"] = update_norms(dense.W, layer.dW_applied)
            continue
        for field in UPDATE_FIELDS:
            pair = _pair(getattr(layer, field), _label(layer, field))
            if pair is not None:
                entry[field] = pair
        for name, value in (layer.slots or {}).items():
            entry.setdefault("slots", {})[name] = _pair(value, f"{name}({layer.index})")
    return out


def update_norms(w_after: np.ndarray, delta: np.ndarray) -> dict:
    """{"dW_applied": ‖ΔW(l)‖, "W": ‖W(l)‖ before the update (W after − ΔW)}: the page's update
    ratio ‖ΔW‖/‖W‖ for a layer whose ΔW a play frame leaves out (two numbers instead of a matrix)."""
    return {"dW_applied": _norm(delta), "W": _norm(w_after - delta)}


def _norm(arr: np.ndarray) -> float | None:
    """‖arr‖ (Frobenius), None if it is not finite (JSON's null). einsum reads W's transposed view
    where it lies (``ravel`` copied it: both norms of MNIST's W(1) took 0.25 ms a frame, now 0.05)."""
    axes = list(range(arr.ndim))
    with np.errstate(over="ignore", invalid="ignore"):
        return finite(float(np.sqrt(np.einsum(arr, axes, arr, axes, []))))


def batch_part(trace, indices, n_classes: int | None = None) -> dict:
    """The batch: sample indices (rows of the training set), x = a(1) and the targets y.

    Classification targets are always sent as one-hot rows: with a sparse loss the trace holds class
    labels, which ``n_classes`` (the output layer's width) turns into rows y[i, k] = [k = label_i]."""
    y = trace.y
    if n_classes is not None and y is not None and y.ndim == 1:
        y = to_categorical(y, n_classes, dtype=trace.y_pred.dtype)
    return {"indices": [int(i) for i in indices], "x": _pair(trace.x, "a(1)"),
            "y": _pair(y, "y"), "y_pred": _pair(trace.y_pred, "ŷ")}


def merge_layers(*parts: list[dict]) -> list[dict]:
    """Layer entries of several phases merged per index (later phases add fields, never replace W)."""
    merged: dict[int, dict] = {}
    for part in parts:
        for entry in part:
            target = merged.setdefault(entry["index"], {})
            for key, value in entry.items():
                target.setdefault(key, value)
    return [merged[i] for i in sorted(merged)]


def render(frame: dict, encoding: str = "json", layers=None, fields=None, raw: bool = False,
           big: int | None = None, budget: int | None = None, rows: int | None = None) -> dict:
    """JSON-ready copy of ``frame``: tensors encoded; only ``layers`` (indices) and ``fields`` if given.

    Tensors are encoded once (guarded against NaN); only the small non-tensor values are sanitised.
    The float tensors are encoded together (``tensors.Batch``: one conversion and one finiteness
    check per frame; with ``raw`` the JSON values stay arrays for ``responses.dumps``), the others
    one by one (``encode``). ``big`` (frames while playing): tensors of more entries are quantized
    to int8 when the encoding is b64 (or bin), and when no ``fields`` are given, layers with more
    weights than ``big`` leave out ``LEAN_DROP``. ``budget`` (bytes): if the tensors would take more,
    the largest come as summaries, listed under "omitted" (see ``budget``). ``rows`` (with ``big``
    and no ``fields``): see ``cut_rows``. Encoding "bin": see ``render_binary``."""
    out, _ = _render(frame, encoding, layers, fields, raw, big, budget, rows)
    return out


def render_binary(frame: dict, layers=None, fields=None, big: int | None = None,
                  budget: int | None = None, rows: int | None = None) -> tuple[dict, bytes]:
    """(the frame's JSON header, the buffer its tensors' ``offset``s point into): ``wire``'s binary
    frame, the same tensors, rows, quantization and budget as b64 (measured as b64's size, an upper bound)."""
    return _render(frame, "bin", layers, fields, False, big, budget, rows)


def cut_rows(frame: dict, big: int | None, rows: int | None) -> dict:
    """``frame`` with, of each layer of more than ``big`` weights, ``ROWS_CUT`` cut to their first
    ``rows`` rows: (rows, label, {"rows_of", "norm", "max_abs"} of the whole matrix). The same
    frame if nothing is cut (``rows`` or ``big`` None, or no layer that big)."""
    if rows is None or big is None or not frame.get("layers"):
        return frame
    layers = []
    for entry in frame["layers"]:
        if _size(entry.get("W_updated") or entry.get("W")) > big:
            entry = {k: _cut(v, rows) if k in ROWS_CUT and _size(v) else v for k, v in entry.items()}
        layers.append(entry)
    return {**frame, "layers": layers}


def _cut(pair, rows: int):
    arr, label = pair
    if arr.ndim != 2 or arr.shape[0] <= rows:
        return pair
    top = max(arr.max(), -arr.min())
    return arr[:rows], label, {"rows_of": int(arr.shape[0]), "norm": _norm(arr), "max_abs": finite(top)}


def _render(frame: dict, encoding: str, layers, fields, raw: bool, big, budget, rows=None) -> tuple[dict, bytes]:
    if fields is None:
        frame = cut_rows(frame, big, rows)
    omit: set[int] = set()
    if budget is not None and _entries(frame) * BYTES["json" if encoding == "json" else "b64"] > budget:
        measure = Measure()
        _walk(frame, "b64" if encoding == "bin" else encoding, layers, fields, raw, big, measure)
        omit = measure.over(budget)
    batch = BinBatch() if encoding == "bin" else Batch(encoding)
    batch.omit = omit
    out = _walk(frame, encoding, layers, fields, raw, big, batch)
    batch.fill()
    if omit:
        out["omitted"] = batch.omitted
        out["hint"] = HINT
    return out, getattr(batch, "buffer", b"")


def _entries(value) -> int:
    """Entries of every tensor in ``value`` (a frame or a part of one): at the most bytes an entry
    takes, a bound on the answer's size, so a frame well inside the budget skips the measuring
    walk (a third of rendering a play frame of MNIST, cold from the training's caches: 2026-12-03)."""
    kind = type(value)
    if kind is tuple and value and type(value[0]) is np.ndarray:
        return value[0].size
    if kind is dict:
        return sum(_entries(v) for v in value.values())
    if kind is list:
        return sum(_entries(v) for v in value)
    return value.size if kind is np.ndarray else 0


def _walk(frame: dict, encoding: str, layers, fields, raw: bool, big, batch) -> dict:
    out = {}
    quantize = big if encoding in ("b64", "bin") else None
    for key, value in frame.items():
        if key == "layers":
            out[key] = [_render_layer(e, encoding, fields, raw, big, quantize, batch) for e in value
                        if layers is None or e["index"] in layers]
        elif key == "batch" and isinstance(value, dict):
            out[key] = {k: _render_value(v, encoding, raw, quantize, batch) for k, v in value.items()
                        if fields is None or k in fields or k == "indices"}
        else:
            out[key] = _render_value(value, encoding, raw, quantize, batch)
    return out


def _size(value) -> int:
    """Entries of a labelled tensor (of the whole matrix if its rows were cut), 0 if not one."""
    if not (isinstance(value, tuple) and value and isinstance(value[0], np.ndarray)):
        return 0
    if len(value) == 3:
        return value[2]["rows_of"] * (value[0].size // max(value[0].shape[0], 1))
    return value[0].size


def _render_layer(entry: dict, encoding: str, fields, raw: bool, big, quantize, batch: Batch) -> dict:
    lean = fields is None and big is not None and _size(entry.get("W_updated") or entry.get("W")) > big
    out = {}
    for k, v in entry.items():
        if (k in ALWAYS or k in fields) if fields is not None else not (lean and k in LEAN_DROP):
            if type(v) is tuple and len(v) in (2, 3) and type(v[0]) is np.ndarray:
                out[k] = _tensor(v[0], v[1], encoding, raw, quantize, batch)
                if len(v) == 3 and isinstance(out[k], dict):      # rows cut: the whole matrix's numbers
                    out[k].update(v[2])
            else:
                out[k] = _render_value(v, encoding, raw, quantize, batch)
    return out


def _render_value(value, encoding: str, raw: bool, quantize, batch: Batch):
    kind = type(value)
    if kind is int or kind is str or value is None or kind is bool:
        return value
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], np.ndarray):
        return _tensor(value[0], value[1], encoding, raw, quantize, batch)
    if isinstance(value, dict):
        return {k: _render_value(v, encoding, raw, quantize, batch) for k, v in value.items()}
    if isinstance(value, (float, np.floating)):
        return finite(value)
    if isinstance(value, np.ndarray):
        return _tensor(value, None, encoding, raw, quantize, batch)
    if isinstance(value, (list, tuple)):
        return [_render_value(v, encoding, raw, quantize, batch) for v in value]
    return sanitize(value)


def _tensor(arr: np.ndarray, label, encoding: str, raw: bool, quantize, batch: Batch) -> dict:
    """A tensor into the frame's batch, or (quantized, or not a float array) encoded by itself; a
    summary if the budget left it out (a measuring walk only records its size)."""
    if isinstance(batch, Measure):
        return batch.record(arr, label, encoding, quantize)
    if id(arr) in batch.omit:
        batch.omitted.append({"label": label, "shape": list(arr.shape)})
        return summary(arr, label)
    if encoding == "bin":
        return batch.put(arr, label, quantize)
    if Batch.takes(arr, encoding, raw) and (quantize is None or arr.size <= quantize):
        return batch.add(arr, label)
    return encode(arr, label, encoding, raw, quantize)

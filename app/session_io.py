"""Reading a session out: the decision-boundary grid, and export/import (JSON or .npz, never pickle)."""
from __future__ import annotations

import copy
import io
import json

import numpy as np

from engine.activations import overflow_ignored
from engine.compare import build_run
from engine.confusion import model_confusion
from engine.datasets.playground import make_features
from engine.saving import model_config

from . import autodiff, npz_import, session_state, timeline_io
from .errors import Conflict, Unprocessable
from .tensors import decode, encode, finite

FORMAT = "backprop-lab-session/1"


def _plane(session, resolution: int, what: str):
    """(x1, x2, the grid's network inputs, feature names): a resolution × resolution grid covering
    the 2-D points (row i is x2[i], column j is x1[j]), through the data set's feature maps."""
    data = session.data
    if data.coords_train is None:
        raise Conflict(f"{what} needs a 2-D data set; {data.name!r} has no 2-D points")
    if session.diverged:
        raise Conflict("the session diverged: its weights are not finite; POST /reset first")
    points = np.concatenate([data.coords_train, data.coords_test])
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = 0.05 * np.maximum(hi - lo, 1e-6)
    x1 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    x2 = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    g1, g2 = np.meshgrid(x1, x2)                     # g[i, j] = (x1[j], x2[i])
    grid = np.stack([g1.ravel(), g2.ravel()], axis=1)
    features = data.options.get("features", ["x1", "x2"])
    return x1, x2, make_features(grid, features), features


def unit_maps(session, resolution: int, encoding: str = "json") -> dict:
    """What every unit draws over the input plane: each input feature (a(1)) and each unit's
    activation a(l+1) of every Dense layer, at the grid's points, from the current weights (inference,
    no dropout), with each layer's range for a shared colour scale."""
    x1, x2, inputs, features = _plane(session, resolution, "unit-maps")
    shape = (resolution, resolution)
    out = {"resolution": resolution, "x1": x1.tolist(), "x2": x2.tolist(), "step": session.model.step,
           "features": [{"name": name, "map": encode(inputs[:, j].reshape(shape), name, encoding)}
                        for j, name in enumerate(features)], "layers": []}
    with overflow_ignored():            # huge weights may overflow exp(); the maps say so (clipped)
        outputs = session.model.layer_outputs(inputs)
    for number, a in enumerate(outputs, start=1):
        maps = np.moveaxis(a.reshape(resolution, resolution, -1), -1, 0)      # (units, rows x2, cols x1)
        out["layers"].append({"index": number, "label": f"a({number + 1})", "units": int(maps.shape[0]),
                              "min": finite(float(maps.min())), "max": finite(float(maps.max())),
                              "maps": encode(maps, f"a({number + 1})", encoding)})
    return out


def predict_grid(session, resolution: int, encoding: str = "json") -> dict:
    """The network's output over a resolution × resolution grid covering the 2-D points (rows: x2);
    ``encoding`` "b64": its tensors as float32 base64 (the page's, while playing: the JSON lists took
    3.3 of the answer's 3.9 ms on xor at 40 × 40)."""
    data = session.data
    x1, x2, inputs, _ = _plane(session, resolution, "predict-grid")
    with overflow_ignored():            # huge (finite) weights may overflow: the tensors say so
        out = session.model.predict(inputs)
    units = out.shape[1]
    outputs = out.reshape(resolution, resolution, units)
    value = outputs[..., 1] if data.kind == "classification" and units == 2 else outputs[..., 0]
    answer = {"resolution": resolution, "x1": x1.tolist(), "x2": x2.tolist(), "kind": data.kind,
              "outputs": encode(outputs, "ŷ", encoding),
              "value": encode(value, "P(class 1)" if data.kind == "classification" else "ŷ", encoding)}
    if data.kind == "classification":
        answer["predicted_class"] = encode(np.argmax(outputs, axis=-1) if units > 1 else
                                           (outputs[..., 0] > 0.5).astype(np.int64), "class", encoding)
    return answer


def _spread(n: int, limit: int) -> np.ndarray:
    """At most ``limit`` row numbers spread evenly over 0..n-1 (all of them when n <= limit)."""
    return np.arange(n) if n <= limit else np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


def data_points(session, limit: int) -> dict:
    """The 2-D points of the train and test splits (at most ``limit`` of each), with their labels
    (classification: class index) or targets (regression), for drawing over predict-grid."""
    data = session.data
    if data.coords_train is None:
        raise Conflict(f"the data view needs a 2-D data set; {data.name!r} has no 2-D points")
    out = {"kind": data.kind, "n_classes": data.n_classes, "class_names": data.class_names,
           "limit": limit, "truncated": data.n_train > limit or data.n_test > limit}
    for split, coords, y in (("train", data.coords_train, data.y_train), ("test", data.coords_test, data.y_test)):
        rows = _spread(len(coords), limit)
        part = {"n": int(len(coords)), "indices": rows.tolist(), "x": encode(coords[rows], "x")}
        if data.kind == "classification":
            part["labels"] = y[rows].tolist()
        else:
            part["targets"] = encode(y[rows, 0], "y")
        out[split] = part
    return out


def confusion(session, split: str) -> dict:
    """Rows: true class, columns: predicted class, over the whole ``split`` (test by default)."""
    return confusion_of(confusion_snapshot(session, split))


def confusion_snapshot(session, split: str) -> dict:
    """What ``confusion_of`` reads, copied while the session's lock is held (the weights: under a
    millisecond on MNIST); the 409s are raised here."""
    data = session.data
    if data.kind != "classification":
        raise Conflict(f"a confusion matrix needs a classification data set; {data.name!r} is regression")
    if session.diverged:
        raise Conflict("the session diverged: its weights are not finite; POST /reset first")
    return {"split": split, "epoch": session.epoch, "step": session.model.step, "data": data,
            "config": copy.deepcopy(session.config), "weights": session.model.get_weights()}


def model_copy(config: dict, data, weights: list, optimizer_state: dict | None = None):
    """(a new model built from ``config`` with these weights and, if given, optimizer state; its
    y_train): what the reports work on outside the session's lock, the session untouched."""
    _, model, y_train, _ = build_run(config, data=data)
    model.set_weights(weights)
    if optimizer_state is not None:
        model.optimizer.set_state(optimizer_state)
    return model, y_train


def confusion_of(snap: dict) -> dict:
    """The confusion matrix of a snapshot's weights, on a copy of the model: no lock needed, so a
    playing session goes on training (MNIST's 10,000 test digits: about 50 ms under the lock before)."""
    data = snap["data"]
    model, _ = model_copy(snap["config"], data, snap["weights"])
    x, labels = (data.x_test, data.y_test) if snap["split"] == "test" else (data.x_train, data.y_train)
    with overflow_ignored():
        result = model_confusion(model, x, labels, data.n_classes)
    return {"split": snap["split"], "epoch": snap["epoch"], "step": snap["step"], "n": result["n"],
            "accuracy": result["accuracy"], "class_names": data.class_names or
            [str(k) for k in range(data.n_classes)], "matrix": result["matrix"].tolist()}


def export_json(session) -> dict:
    """{"format", "config", "model", "weights": [Keras-layout tensors], "state", "arrays"}: "state"
    holds the counters, curves, schedule and generators, "arrays" the epoch's row order and the
    optimizer's slots (see ``session_state``), so an import continues exactly."""
    if session.diverged:
        raise Conflict("the session diverged: its weights are not finite; POST /reset before exporting")
    weights = session.model.get_weights()
    state, arrays = _state(session)
    return {"format": FORMAT, "config": session.config, "model": model_config(session.model),
            "weights": [encode(w, f"w{i}") for i, w in enumerate(weights)], "state": state,
            "arrays": {name: encode(a, name) for name, a in arrays.items()}}


def export_npz(session) -> bytes:
    """The weights as w0, w1, ... (Keras layout), the state's arrays by name, and the config and
    state as a JSON string entry ``config``."""
    if session.diverged:
        raise Conflict("the session diverged: its weights are not finite; POST /reset before exporting")
    buffer = io.BytesIO()
    state, extra = _state(session)
    arrays = {f"w{i}": w for i, w in enumerate(session.model.get_weights())}
    meta = json.dumps({"format": FORMAT, "config": session.config, "state": state})
    np.savez(buffer, config=np.array(meta), **arrays, **extra)
    return buffer.getvalue()


def _state(session) -> tuple[dict, dict[str, np.ndarray]]:
    """The training state and its arrays, with the timeline (``state["timeline"]``, arrays tl_*)."""
    autodiff.refuse_export(session)
    state, arrays = session_state.capture(session)
    timeline, more = timeline_io.capture_timeline(session)
    return {**state, "timeline": timeline}, {**arrays, **more}


def _array(name: str, tensor) -> np.ndarray:
    try:
        if name in ("schedule_order", "tl_schedule_order"):
            return np.asarray(tensor["values"], dtype=np.int64).reshape(tuple(tensor["shape"]))
        return decode(tensor)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise Unprocessable(["body", "arrays", name], f"not a tensor: {exc}") from None


def parse_json(body: dict) -> tuple[dict, list[np.ndarray], dict, dict[str, np.ndarray]]:
    """(config, weights, state, arrays) from an ``export_json`` answer; 422 naming the field otherwise.
    An export without "state" (an older one) imports at step 0."""
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise Unprocessable(["body", "format"], f"expected {FORMAT!r}")
    if not isinstance(body.get("config"), dict):
        raise Unprocessable(["body", "config"], "missing session config")
    weights = []
    for i, tensor in enumerate(body.get("weights") or []):
        try:
            arr = decode(tensor)
        except (KeyError, TypeError, ValueError) as exc:
            raise Unprocessable(["body", "weights", i], f"not a tensor: {exc}") from None
        weights.append(arr)
    arrays = body.get("arrays") or {}
    if not isinstance(arrays, dict):
        raise Unprocessable(["body", "arrays"], "must be an object of named tensors")
    return body["config"], weights, body.get("state") or {}, {str(k): _array(str(k), v) for k, v in arrays.items()}


def parse_npz(raw: bytes, limit: int) -> tuple[dict, npz_import.NpzMembers, dict, dict]:
    """(config, the archive's members, state, {}) from ``export_npz`` bytes: only the config member
    is read here; ``npz_import.weights`` and ``state_arrays`` read the others against the model,
    each after its header (see ``npz_import``). Never pickle."""
    meta, members = npz_import.read(raw, limit)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or not isinstance(meta.get("config"), dict):
        raise Unprocessable(["body", "config"], f"expected format {FORMAT!r} with a config")
    return meta["config"], members, meta.get("state") or {}, {}


def check_weights(weights: list[np.ndarray], model) -> None:
    """422 naming the weight whose shape or values do not fit ``model``."""
    expected = [p.shape for dense in model.dense_layers for p in dense.params()]
    if len(weights) != len(expected):
        raise Unprocessable(["body", "weights"], f"expected {len(expected)} arrays, got {len(weights)}")
    for i, (w, shape) in enumerate(zip(weights, expected)):
        if w.shape != shape:
            raise Unprocessable(["body", "weights", i], f"shape {list(w.shape)} does not match {list(shape)}")
        if w.dtype.kind not in "iuf":
            raise Unprocessable(["body", "weights", i], f"must hold real numbers, got dtype {w.dtype}")
        if not np.isfinite(w).all():
            raise Unprocessable(["body", "weights", i], "holds NaN or infinity")

"""Save and load models as JSON config + ``.npz`` weights — never pickle.

``model.save("net")`` writes ``net.json`` (architecture, loss, optimizer, metrics, dtype) and
``net.npz`` (kernels and biases in Keras' layout, loaded with ``allow_pickle=False``). When the
model is compiled, the npz also holds the optimizer's state, as Keras saves it: ``opt_iterations``
and one ``opt_<slot>_<i>`` array per slot and weight position (see ``Optimizer.get_state``), so
training resumed after ``load_model`` continues exactly as it would have without saving.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from . import optimizers
from .layers import deserialize

FORMAT = "backprop-lab/1"


def _paths(path) -> tuple[Path, Path]:
    base = Path(path)
    if base.suffix in (".json", ".npz"):
        base = base.with_suffix("")
    return base.with_suffix(".json"), base.with_suffix(".npz")


def model_config(model) -> dict:
    """Everything but the weights, as plain JSON-able data."""
    return {
        "format": FORMAT, "name": model.name, "dtype": model.dtype.name, "seed": model.seed,
        "input_dim": getattr(model, "input_dim", None),
        "layers": [{"class_name": type(x).__name__, "config": x.get_config()} for x in model.layers],
        "compile": None if model.loss is None else {
            "loss": model.loss.name,
            "optimizer": optimizers.serialize(model.optimizer),
            "metrics": list(model.metrics),
        },
    }


def model_from_config(config: dict):
    """A new (built, compiled if it was) Sequential from ``model_config`` output."""
    from .models import Sequential
    if config.get("format") != FORMAT:
        raise ValueError(f"not a Backprop Lab model file (format {config.get('format')!r}, expected {FORMAT!r})")
    model = Sequential(name=config.get("name"), seed=config.get("seed"), dtype=config.get("dtype"))
    for layer_config in config["layers"]:
        model.add(deserialize(layer_config))
    if config.get("input_dim") and not model.built:
        model.build(config["input_dim"])
    compiled = config.get("compile")
    if compiled:
        model.compile(optimizer=optimizers.deserialize(compiled["optimizer"]), loss=compiled["loss"],
                      metrics=compiled["metrics"])
    return model


def save_model(model, path) -> None:
    """Write ``<path>.json`` and ``<path>.npz``."""
    json_path, npz_path = _paths(path)
    json_path.write_text(json.dumps(model_config(model), indent=2))
    arrays = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    if model.optimizer is not None:
        state = model.optimizer.get_state()
        arrays["opt_iterations"] = np.array(state["iterations"], dtype=np.int64)
        for name, values in state["slots"].items():
            arrays.update({f"opt_{name}_{i}": a for i, a in enumerate(values)})
    np.savez(npz_path, **arrays)


def load_model(path):
    """Read a model saved by ``save``: same architecture, same weights, same compile settings."""
    json_path, npz_path = _paths(path)
    for p in (json_path, npz_path):
        if not p.exists():
            raise FileNotFoundError(f"model file {p} does not exist")
    model = model_from_config(json.loads(json_path.read_text()))
    with np.load(npz_path, allow_pickle=False) as data:
        weights = sorted((f for f in data.files if re.fullmatch(r"w\d+", f)), key=lambda f: int(f[1:]))
        model.set_weights([data[f] for f in weights])
        if model.optimizer is not None and "opt_iterations" in data.files:
            model.optimizer.set_state(_optimizer_state(model.optimizer, data),
                                      shapes=[p.shape for d in model.dense_layers for p in d.params()])
    return model


def _optimizer_state(optimizer, data) -> dict:
    """``Optimizer.get_state``-shaped data from the ``opt_*`` arrays of a loaded npz."""
    slots = {}
    for name in optimizer.slots():            # the slot names this optimizer keeps
        keys = sorted((f for f in data.files if re.fullmatch(rf"opt_{re.escape(name)}_\d+", f)),
                      key=lambda f: int(f.rsplit("_", 1)[1]))
        if keys:
            slots[name] = [data[k] for k in keys]
    return {"iterations": int(data["opt_iterations"]), "slots": slots}

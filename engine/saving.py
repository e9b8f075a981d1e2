"""Save and load models as JSON config + ``.npz`` weights — never pickle.

``model.save("net")`` writes ``net.json`` (architecture, loss, optimizer, metrics, dtype) and
``net.npz`` (kernels and biases in Keras' layout, loaded with ``allow_pickle=False``).
"""
from __future__ import annotations

import json
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
    np.savez(npz_path, **{f"w{i}": w for i, w in enumerate(model.get_weights())})


def load_model(path):
    """Read a model saved by ``save``: same architecture, same weights, same compile settings."""
    json_path, npz_path = _paths(path)
    for p in (json_path, npz_path):
        if not p.exists():
            raise FileNotFoundError(f"model file {p} does not exist")
    model = model_from_config(json.loads(json_path.read_text()))
    with np.load(npz_path, allow_pickle=False) as data:
        model.set_weights([data[f"w{i}"] for i in range(len(data.files))])
    return model

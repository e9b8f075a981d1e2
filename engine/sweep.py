"""Sweeps: one session configuration, many runs that differ only in the swept settings.

A sweep is a spec (engine/compare.py's plain session config) plus either a *grid* — every
combination of the values of some axes — or an explicit list of *runs* (each a dict of overrides).
The axes:

    learning_rate       η of the run's optimizer
    optimizer           a registry name ("adam": that optimizer at its defaults) or a full config
                        ({"name": "sgd", "momentum": 0.9, "nesterov": True}); it replaces the spec's
    batch_size          samples per update
    kernel_initializer  the initializer of every kernel
    activation          f of every hidden layer (the output layer keeps its own)
    layers              an architecture: hidden units [8, 8] (the spec's output layer and hidden
                        activation kept) or a full list of layer dicts, output last
    seed                the seed of the weights, the batch order and the dropout masks

Runs with the same architecture, initializers and seed start from the same initial weights
(build_model draws them from seed) and visit the batches in the same order (the batch order's
generator is seeded from seed alone): only the swept settings differ. ``run(config)`` is one plain,
picklable function of plain data, so any executor (a local process pool, a Dask cluster) runs it
and gets the same losses bit for bit.
"""
from __future__ import annotations

import itertools
import math
from typing import Callable

import numpy as np

from . import activations, initializers, optimizers
from .activations import overflow_ignored
from .compare import train_run
from .datasets.playground import make_features

AXES = ("learning_rate", "optimizer", "batch_size", "kernel_initializer", "activation", "layers", "seed")

# The seven optimizers the lecture lists, at their (Keras 3) defaults: the one-click comparison.
SEVEN_OPTIMIZERS = (
    {"name": "sgd"},
    {"name": "sgd", "momentum": 0.9},
    {"name": "sgd", "momentum": 0.9, "nesterov": True},
    {"name": "adam"}, {"name": "adagrad"}, {"name": "rmsprop"}, {"name": "adadelta"},
)


class SweepError(ValueError):
    """A bad sweep: ``field`` is where (e.g. ("grid", "batch_size", 1) or ("runs", 0, "seed"))."""

    def __init__(self, field: tuple, message: str):
        self.field = tuple(field)
        super().__init__(f"{'.'.join(str(p) for p in self.field)}: {message}")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_optimizer(value) -> None:
    config = {"name": value} if isinstance(value, str) else value
    if not isinstance(config, dict) or not isinstance(config.get("name"), str):
        raise ValueError(f"an optimizer name or a config with a 'name', got {value!r}")
    if config["name"].lower() not in optimizers.registry.all_names():
        raise ValueError(f"unknown optimizer {config['name']!r}; valid names: {', '.join(optimizers.registry.names())}")
    if "learning_rate" in config:
        check_setting("learning_rate", config["learning_rate"])
    optimizers.get(dict(config))        # its hyperparameters: ValueError naming a bad one


def _check_layers(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValueError(f"an architecture is a non-empty list (hidden units, or layer dicts), got {value!r}")
    for unit in value:
        if isinstance(unit, dict):
            if not (isinstance(unit.get("units"), int) and not isinstance(unit["units"], bool) and unit["units"] >= 1):
                raise ValueError(f"each layer needs 'units' ≥ 1, got {unit!r}")
        elif not (isinstance(unit, int) and not isinstance(unit, bool) and unit >= 1):
            raise ValueError(f"hidden units are whole numbers ≥ 1, got {unit!r}")


def check_setting(axis: str, value) -> None:
    """ValueError (without the field: the caller adds it) if ``value`` is no valid ``axis`` value."""
    if axis == "learning_rate":
        if not (_number(value) and math.isfinite(value) and 0 < value <= 100):
            raise ValueError(f"a learning rate in (0, 100], got {value!r}")
    elif axis == "batch_size":
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            raise ValueError(f"a whole number ≥ 1, got {value!r}")
    elif axis == "seed":
        if not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 2**32 - 1):
            raise ValueError(f"a whole number in [0, 2³² − 1], got {value!r}")
    elif axis in ("kernel_initializer", "activation"):
        registry = initializers.registry if axis == "kernel_initializer" else activations.registry
        if not isinstance(value, str) or value.lower() not in registry.all_names():
            raise ValueError(f"unknown {axis} {value!r}; valid names: {', '.join(registry.names())}")
    elif axis == "optimizer":
        _check_optimizer(value)
    elif axis == "layers":
        _check_layers(value)
    else:
        raise ValueError(f"unknown axis {axis!r}; the axes are {', '.join(AXES)}")


def _checked(where: tuple, settings: dict) -> dict:
    for axis, value in settings.items():
        try:
            check_setting(axis, value)
        except ValueError as exc:
            raise SweepError((*where, axis), str(exc)) from None
    return dict(settings)


def expand(grid: dict | None = None, runs: list | None = None) -> list[dict]:
    """The runs' settings: every combination of ``grid``'s values (its first axis varies slowest),
    or ``runs`` as given. SweepError naming the field for a bad axis, value or shape."""
    if (grid is None) == (runs is None):
        raise SweepError(("grid",), "give either a grid of axes or a list of runs")
    if grid is not None:
        if not isinstance(grid, dict) or not grid:
            raise SweepError(("grid",), "a grid maps axes to lists of values, e.g. {'optimizer': ['sgd', 'adam']}")
        for axis, values in grid.items():
            if axis not in AXES:
                raise SweepError(("grid", axis), f"unknown axis; the axes are {', '.join(AXES)}")
            if not isinstance(values, list) or not values:
                raise SweepError(("grid", axis), f"a non-empty list of values, got {values!r}")
            for i, value in enumerate(values):
                try:
                    check_setting(axis, value)
                except ValueError as exc:
                    raise SweepError(("grid", axis, i), str(exc)) from None
        return [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]
    if not isinstance(runs, list) or not runs:
        raise SweepError(("runs",), "a non-empty list of runs (each a dict of settings)")
    for i, settings in enumerate(runs):
        if not isinstance(settings, dict):
            raise SweepError(("runs", i), f"a dict of settings, got {settings!r}")
    return [_checked(("runs", i), settings) for i, settings in enumerate(runs)]


def _architecture(spec: dict, layers: list, activation: str | None) -> list[dict]:
    """Layer dicts for ``layers``: hidden units get the spec's hidden activation, then its output layer."""
    if all(isinstance(unit, dict) for unit in layers):
        return [dict(unit) for unit in layers]
    hidden = spec["layers"][:-1]
    f = activation or (hidden[0]["activation"] if hidden else "relu")
    return [*({"units": int(u), "activation": f} for u in layers), dict(spec["layers"][-1])]


def apply(spec: dict, settings: dict) -> dict:
    """``spec`` with ``settings`` in it (a new dict; ``spec`` is left alone)."""
    out = {**spec, "layers": [dict(layer) for layer in spec["layers"]], "optimizer": dict(spec["optimizer"])}
    if "layers" in settings:
        out["layers"] = _architecture(spec, settings["layers"], settings.get("activation"))
    if "activation" in settings:
        for layer in out["layers"][:-1]:
            layer["activation"] = settings["activation"]
    if "optimizer" in settings:
        value = settings["optimizer"]
        out["optimizer"] = {"name": value} if isinstance(value, str) else dict(value)
    if "learning_rate" in settings:
        out["optimizer"]["learning_rate"] = float(settings["learning_rate"])
    for key in ("batch_size", "kernel_initializer", "seed"):
        if key in settings:
            out[key] = settings[key]
    return out


def learning_rate_of(spec: dict) -> float:
    """η of the spec's optimizer: its own, else the optimizer's default."""
    config = dict(spec["optimizer"])
    return float(optimizers.get(config).learning_rate)


def decision_map(model, data, resolution: int = 24) -> dict | None:
    """The trained network's decision over the 2-D plane, for a thumbnail: on a resolution ×
    resolution grid covering the points (row i is x2[i], column j is x1[j], through the data set's
    feature maps), each cell 10·k + c with k = argmax ŷ the predicted class and c ∈ 0..9 its
    confidence, (max ŷ − 1/K)/(1 − 1/K) in tenths. None unless the set is 2-D classification."""
    if data.coords_train is None or data.kind != "classification":
        return None
    points = np.concatenate([data.coords_train, data.coords_test])
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = 0.05 * np.maximum(hi - lo, 1e-6)
    g1, g2 = np.meshgrid(*(np.linspace(lo[d] - pad[d], hi[d] + pad[d], resolution) for d in (0, 1)))
    grid = make_features(np.stack([g1.ravel(), g2.ravel()], axis=1), data.options.get("features", ["x1", "x2"]))
    with overflow_ignored():
        y = model.predict(grid.astype(model.dtype))
    if y.shape[1] == 1:                         # one sigmoid unit: P(class 1)
        y = np.concatenate([1.0 - y, y], axis=1)
    k = y.shape[1]
    confidence = np.clip(np.floor((y.max(axis=1) - 1.0 / k) / (1.0 - 1.0 / k) * 10), 0, 9)
    cells = 10 * np.argmax(y, axis=1) + np.nan_to_num(confidence).astype(np.int64)
    return {"resolution": resolution, "classes": k, "cells": cells.tolist()}


def run(config: dict, progress: Callable[[dict], None] | None = None,
        should_stop: Callable[[], bool] | None = None) -> dict:
    """Train one run of a sweep: config = {"spec": ..., "settings": {...}, "epochs": n}.

    ``progress`` gets the run's curves as it goes (engine.compare.train_run's messages: "initial",
    "batch_loss" a few at a time, "epoch" with its logs); ``should_stop()`` cancels it at the next
    batch. Returns train_run's result with "settings", the run's "learning_rate" and, on 2-D
    classification sets, its trained "boundary" (``decision_map``, config "boundary" cells a side) added.
    """
    settings = dict(config.get("settings") or {})
    spec = apply(config["spec"], settings)
    resolution = int(config.get("boundary", 24))
    result = train_run(spec, None, int(config["epochs"]), progress=progress, should_stop=should_stop,
                       finish=lambda model, data: {"boundary": decision_map(model, data, resolution)})
    return {**result, "settings": settings, "learning_rate": learning_rate_of(spec)}

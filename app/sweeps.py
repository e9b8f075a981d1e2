"""A comparison request as runs: the learning-rate form, a grid of axes or a list of runs, each
checked against the server's limits (422 naming the field). No maths: engine/sweep.py expands."""
from __future__ import annotations

import math

from engine import sweep

from .errors import Unprocessable
from .schemas import CompareCreate
from .settings import Settings


def check_size(body: CompareCreate, settings: Settings) -> None:
    """422 naming the limit when a sweep has more runs than ``max_sweep_runs`` (counted before expanding)."""
    if body.mode != "compare" or (body.grid is None and body.runs is None):
        return
    field = "grid" if body.grid is not None else "runs"
    if body.learning_rates or (body.grid is not None and body.runs is not None):
        raise Unprocessable(["body", field], "give one of learning_rates, grid or runs")
    n = len(body.runs) if body.runs is not None else math.prod(len(v) for v in body.grid.values())
    if n > settings.max_sweep_runs:
        raise Unprocessable(["body", field], f"{n} runs; the limit is max_sweep_runs = {settings.max_sweep_runs}")


def _limits(where: list, settings_: dict, spec: dict, limits: Settings) -> None:
    """422 at ``where`` when a run's batch size or architecture passes the server's limits."""
    batch = settings_.get("batch_size")
    if batch is not None and batch > limits.max_batch_size:
        raise Unprocessable([*where, "batch_size"], f"at most {limits.max_batch_size}, got {batch}")
    layers = spec["layers"]
    if len(layers) > limits.max_layers:
        raise Unprocessable([*where, "layers"], f"at most {limits.max_layers} layers, got {len(layers)}")
    widest = max(layer["units"] for layer in layers)
    if widest > limits.max_units:
        raise Unprocessable([*where, "layers"], f"at most {limits.max_units} units, got {widest}")


def run_settings(body: CompareCreate) -> list[dict]:
    """Each run's settings: {"learning_rate": η} per rate of the old form, else the sweep's runs."""
    if body.grid is None and body.runs is None:
        return [{"learning_rate": rate} for rate in body.learning_rates]
    try:
        return sweep.expand(grid=body.grid, runs=body.runs)
    except sweep.SweepError as exc:
        raise Unprocessable(["body", *exc.field], str(exc)) from None


def tasks(body: CompareCreate, config: dict, limits: Settings) -> list[dict]:
    """One task per run (mode "sweep": its settings, epochs and learning rate), or the range test."""
    if body.mode == "range_test":
        seeds = [{}] if body.seeds is None else [{"seed": s} for s in body.seeds]
        for i, settings_ in enumerate(seeds):
            try:
                sweep.expand(runs=[settings_])
            except sweep.SweepError as exc:
                raise Unprocessable(["body", "seeds", i], str(exc).split(": ", 1)[1]) from None
        return [{"mode": "range_test", "min_lr": body.min_lr, "max_lr": body.max_lr, "steps": body.steps,
                 "settings": settings_, "config": sweep.apply(config, settings_)} for settings_ in seeds]
    out = []
    for i, settings_ in enumerate(run_settings(body)):
        spec = sweep.apply(config, settings_)
        where = ["body", "grid"] if body.grid is not None else ["body", "runs", i]
        _limits(where, settings_, spec, limits)
        try:
            rate = sweep.learning_rate_of(spec)
        except ValueError as exc:
            raise Unprocessable([*where, "optimizer"], str(exc)) from None
        run_config = {**spec, "optimizer": {**spec["optimizer"], "learning_rate": rate}}     # what a session
        out.append({"mode": "sweep", "settings": settings_, "epochs": body.epochs, "learning_rate": rate,
                    "config": run_config})       # built from it starts from this run's weights
    return out

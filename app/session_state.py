"""A session's training state beyond its weights, for export and import: the step and epoch
counters, the curves, the optimizer's state, where the epoch stands and the random generators.

With it an imported session continues exactly as the exported one would have (the same batches,
dropout masks and optimizer slots, bit for bit). An export taken in the middle of a cycle (after
Forward or Backward) is the state before that cycle: the import starts it again from Forward.
``capture`` gives (plain JSON-able data, named arrays); ``restore`` checks everything against the
session first (422 naming the field) and only then changes it.
"""
from __future__ import annotations

import math

import numpy as np

from .errors import Unprocessable
from .tensors import finite

LOC = ["body", "state"]


def rng_state(generator: np.random.Generator) -> dict:
    """The generator's state with its big integers as strings (JavaScript would round them)."""
    return _as_json(generator.bit_generator.state)


def _as_json(state: dict) -> dict:
    return {**state, "state": {k: str(v) for k, v in state["state"].items()}}


def capture(session) -> tuple[dict, dict[str, np.ndarray]]:
    """(state, arrays): the session's counters, curves, schedule and generators, and the arrays of
    the epoch's row order and the optimizer's slots (``opt_<slot>_<i>``, Keras' layout)."""
    run, model = session.run, session.model
    pending = run.pending          # mid-cycle: the state before the cycle began
    where = pending.before if pending is not None and pending.before is not None else run.position()
    order, position, batches, dropout = where.order, where.position, where.batches, where.dropout
    arrays: dict[str, np.ndarray] = {}
    if order is not None:
        arrays["schedule_order"] = np.asarray(order, dtype=np.int64)
    optimizer = model.optimizer.get_state()
    for name, values in optimizer["slots"].items():
        arrays.update({f"opt_{name}_{i}": a for i, a in enumerate(values)})
    state = {
        "epoch": run.epoch, "step": model.step,
        "history": {k: [finite(v) for v in values] for k, values in run.history.items()},
        "last_logs": {k: finite(v) for k, v in run.last_logs.items()},
        "meter": {"count": run.meter.count, "sums": dict(run.meter.sums)},
        "schedule": {"position": position, "batches": batches},
        "optimizer": {"iterations": optimizer["iterations"],
                      "slots": sorted(name for name, values in optimizer["slots"].items() if values)},
        "rng": {"shuffle": rng_state(model.shuffle_rng),
                "dropout": _as_json(dropout) if dropout is not None else rng_state(model.dropout_rng)},
    }
    return state, arrays


def _int(value, loc: list, low: int = 0, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bounds = f"in {low}..{high}" if high is not None else f"≥ {low}"
        raise Unprocessable(LOC + loc, f"must be a whole number {bounds}, got {value!r}")
    return value


def _generator_state(value, current: dict, loc: list) -> dict:
    """A bit generator's state of the same kind as ``current``, its integers back from strings."""
    if not isinstance(value, dict) or value.get("bit_generator") != current["bit_generator"] \
            or not isinstance(value.get("state"), dict) or set(value["state"]) != set(current["state"]):
        raise Unprocessable(LOC + loc, f"expected a {current['bit_generator']} state like the export's")
    try:
        inner = {k: int(v) for k, v in value["state"].items()}
    except (TypeError, ValueError):
        raise Unprocessable(LOC + loc + ["state"], "holds a value that is not an integer") from None
    return {**current, **{k: value[k] for k in ("has_uint32", "uinteger") if k in value}, "state": inner}


def _floats(values, loc: list) -> list:
    if not isinstance(values, list) or len(values) > 10_000_000:
        raise Unprocessable(LOC + loc, "must be a list of numbers")
    for v in values:
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)):
            raise Unprocessable(LOC + loc, f"holds {v!r}, not a finite number or null")
    return [None if v is None else float(v) for v in values]


def _checked(session, state: dict, arrays: dict[str, np.ndarray]) -> dict:
    """Everything ``restore`` sets, checked against ``session`` (raises before anything changes)."""
    if not isinstance(state, dict):
        raise Unprocessable(LOC, "must be an object (the export's state)")
    n = session.data.n_train
    out = {"epoch": _int(state.get("epoch", 0), ["epoch"]), "step": _int(state.get("step", 0), ["step"])}
    history = state.get("history", {})
    if not isinstance(history, dict) or not set(history) <= set(session.history):
        raise Unprocessable(LOC + ["history"], f"keys must be among {sorted(session.history)}")
    out["history"] = {k: _floats(history.get(k, []), ["history", k]) for k in session.history}
    logs = state.get("last_logs", {})
    out["last_logs"] = {k: v for k, v in (logs.items() if isinstance(logs, dict) else []) if k in session.history
                        and isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}
    meter = state.get("meter") or {"count": 0, "sums": {}}
    sums = meter.get("sums", {}) if isinstance(meter, dict) else None
    if not isinstance(sums, dict) or set(sums) - set(session.run.meter.sums):
        raise Unprocessable(LOC + ["meter"], f"sums must be among {sorted(session.run.meter.sums)}")
    out["meter"] = (_int(meter.get("count", 0), ["meter", "count"]),
                    {k: _floats([sums.get(k, 0.0)], ["meter", "sums", k])[0] or 0.0 for k in session.run.meter.sums})
    schedule = state.get("schedule") or {}
    if not isinstance(schedule, dict):
        raise Unprocessable(LOC + ["schedule"], "must be an object")
    order = arrays.get("schedule_order")
    if order is not None and (order.shape != (n,) or order.dtype.kind not in "iu"
                              or not np.array_equal(np.sort(order), np.arange(n))):
        raise Unprocessable(LOC + ["schedule", "order"], f"must be a permutation of the {n} training rows")
    position = _int(schedule.get("position", 0), ["schedule", "position"], 0, n - 1 if order is not None else 0)
    out["schedule"] = (None if order is None else order.astype(np.int64), position,
                       _int(schedule.get("batches", 0), ["schedule", "batches"], 0, n))
    rng = state.get("rng") or {}
    model = session.model
    out["rng"] = {name: _generator_state(rng[name], getattr(model, f"{name}_rng").bit_generator.state, ["rng", name])
                  for name in ("shuffle", "dropout") if name in rng}
    opt = state.get("optimizer") or {}
    slots = {}
    for name in (opt.get("slots") or []) if isinstance(opt, dict) else []:
        keys = sorted((k for k in arrays if k.startswith(f"opt_{name}_") and k.rsplit("_", 1)[1].isdigit()),
                      key=lambda k: int(k.rsplit("_", 1)[1]))
        if keys:                # a slot not made yet (before the first update) is made on the next one
            slots[str(name)] = [arrays[k] for k in keys]
    out["optimizer"] = {"iterations": _int(opt.get("iterations", 0), ["optimizer", "iterations"]) if opt else 0,
                        "slots": slots}
    return out


def restore(session, state: dict, arrays: dict[str, np.ndarray]) -> None:
    """Put ``capture``'s output back into ``session`` (a new one, built from the same config)."""
    checked = _checked(session, state, arrays)
    model = session.model
    try:
        model.optimizer.set_state(checked["optimizer"],
                                  shapes=[p.shape for d in model.dense_layers for p in d.params()])
    except ValueError as exc:
        raise Unprocessable(LOC + ["optimizer"], str(exc)) from None
    for name, value in checked["rng"].items():
        getattr(model, f"{name}_rng").bit_generator.state = value
    run = session.run
    run.epoch, model.step = checked["epoch"], checked["step"]
    model.epoch = run.epoch
    run.history, run.last_logs = checked["history"], checked["last_logs"]
    run.meter.count, run.meter.sums = checked["meter"]
    run.schedule.order, run.schedule.position, run.schedule.batches = checked["schedule"]
    if isinstance(state, dict) and state.get("timeline") is not None:      # the exported timeline, rebuilt
        from .timeline_io import restore_timeline
        session.restart_timeline()
        restore_timeline(session, state["timeline"], arrays, max(session.data.n_train, 1))
    else:
        session.restart_timeline()      # the imported state is where its timeline begins

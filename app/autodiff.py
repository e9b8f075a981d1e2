"""The automatic-differentiation routes' work, under the session's lock: the live gradient check of the
current batch (engine/live_check.py) and the find-the-bug game (engine/planted_bugs.py). No maths here.

A session with a planted bug trains through a ``PlantedStep`` as its run's stepper (the reference step
with the bug, instead of engine.fast's FastStep); every other session never reaches engine/planted_bugs.
Planting or removing a bug starts the session's timeline afresh at the step it stands at, so that
going back in time replays steps taken the way they were taken.
"""
from __future__ import annotations

import copy
import secrets
import time

import numpy as np

from engine import fast
from engine.activations import overflow_ignored
from engine.errors import Diverged
from engine.live_check import FLOOR, check_batch

from .errors import Conflict, Unprocessable
from .tensors import finite

WORK_LIMIT = 2_000_000_000      # multiply-adds of one check's finite differences, at most (~1 s)
NOTE = ("float64 copy of the network and the batch (the session's float32 weights, converted exactly); "
        "dropout off; numeric = (cost(w + h) − cost(w − h)) / 2h; relative error = |analytic − numeric| / "
        f"max(|analytic| + |numeric|, {FLOOR:g}); a kink: w ± h moves a ReLU's z across 0, where the "
        "difference quotient is no derivative (smooth_max_relative_error leaves those out)")


def current_rows(session) -> tuple[np.ndarray, str]:
    """The current batch's training rows and which batch that is: the pending one (forward done), the
    last one updated, or (a fresh session) the next one, drawn from a copy of the schedule."""
    run = session.run
    if run.pending is not None:
        return run.pending.rows, "pending"
    if run.last_update is not None:
        return run.last_update.rows, "last"
    rows, _ = copy.deepcopy(run.schedule).next_batch()     # the copy has its own generator
    return rows, "next"


def _planted(session):
    """The session's PlantedStep, or None (type by name: no import of the bug module for the others)."""
    stepper = session.run.stepper
    return stepper if type(stepper).__name__ == "PlantedStep" else None


def gradient_check(session, body) -> dict:
    """Per layer: the entries of W(l) and b(l) checked, analytic and numeric ∂cost/∂w, relative errors."""
    if session.diverged:
        raise Conflict("the session diverged: its weights are not finite; go back (seek) or reset first")
    count = len(session.model.dense_layers)
    layers = sorted(set(body.layers)) if body.layers else list(range(1, count + 1))
    bad = [n for n in layers if not 1 <= n <= count]
    if bad:
        raise Unprocessable(["body", "layers"], f"no layer {bad[0]}: the layers are 1 to {count}")
    rows, source = current_rows(session)
    _check_work(session, layers, body.max_weights, rows.size)
    planted = _planted(session)
    make_step = None if planted is None else (lambda m: type(planted)(m, planted.bug, planted.layer))
    started = time.perf_counter()
    try:
        with overflow_ignored():
            report = check_batch(session.model, session.run.x.take(rows, axis=0),
                                 session.run.y.take(rows, axis=0), layers, body.max_weights, body.h, body.seed,
                                 make_step)
    except Diverged as exc:
        raise Conflict(f"{exc.quantity} is not finite on this batch, even in float64: nothing to check") from None
    seconds = time.perf_counter() - started
    out_layers = [_layer_answer(entry) for entry in report]
    return {"step": session.model.step, "phase": session.phase, "h": body.h, "dtype": "float64", "note": NOTE,
            "floor": FLOOR, "batch": {"rows": rows.tolist(), "size": int(rows.size), "which": source},
            "sampled": any(part["checked"] < part["total"] for e in report for part in _parts(e)),
            "max_relative_error": _largest(e["max_relative_error"] for e in out_layers),
            "kinks": sum(part["kinks"] for e in report for part in _parts(e)),
            "smooth_max_relative_error": _largest(part["smooth_max_relative_error"] for e in report
                                                  for part in _parts(e)),
            "seconds": round(seconds, 4), "layers": out_layers}


def _largest(values):
    """The largest finite one of ``values`` (None when there is none)."""
    return max((finite(v) for v in values if finite(v) is not None), default=None)


def _parts(entry: dict) -> list[dict]:
    return [entry[k] for k in ("W", "b") if k in entry]


def _check_work(session, layers, max_weights: int, batch: int) -> None:
    """422 naming max_weights when the finite differences would take more than WORK_LIMIT multiply-adds."""
    dense = session.model.dense_layers
    sizes = [d.kernel.size for d in dense]
    work = 0
    for n in layers:
        checked = min(max_weights, sizes[n - 1]) + min(max_weights, dense[n - 1].units)
        work += 2 * checked * batch * (sum(sizes[n:]) + dense[n - 1].units)
    if work > WORK_LIMIT:
        fits = max(1, int(max_weights * WORK_LIMIT / work))
        raise Unprocessable(["body", "max_weights"], f"too much work for this network and batch of {batch}: "
                                                     f"try max_weights ≤ {fits} or fewer layers")


def _layer_answer(entry: dict) -> dict:
    out = {"index": entry["index"], "max_relative_error": finite(entry["max_relative_error"])}
    for key, label in (("W", f"W({entry['index']})"), ("b", f"b({entry['index']})")):
        if key in entry:
            part = entry[key]
            out[key] = {"label": label, "shape": part["shape"], "indices": part["indices"],
                        "checked": part["checked"], "total": part["total"], "kinks": part["kinks"],
                        "kink": part["kink"].tolist(), "max_relative_error": finite(part["max_relative_error"]),
                        "smooth_max_relative_error": finite(part["smooth_max_relative_error"]),
                        **{k: [finite(v) for v in part[k]] for k in ("analytic", "numeric", "relative_error")}}
    return out


# ----- find the bug ------------------------------------------------------------------------------
def bug_status(session) -> dict:
    """The five bugs to choose from; whether one is planted, the guesses, and the bug once revealed."""
    from engine import planted_bugs
    planted = _planted(session)
    out = {"bugs": [{"name": n, "title": planted_bugs.TITLES[n]} for n in planted_bugs.NAMES],
           "planted": planted is not None, "guesses": [], "revealed": None}
    if planted is not None:
        out["guesses"] = list(planted.guesses)
        if planted.revealed:
            out["revealed"] = planted_bugs.explain(planted.bug, planted.layer,
                                                   output=planted.layer == len(session.model.dense_layers))
    return out


def plant_bug(session, body) -> dict:
    """Train from now on through a PlantedStep with the chosen (or a random) bug; which one stays hidden."""
    from engine import planted_bugs
    if session.diverged:
        raise Conflict("the session diverged; reset it before planting a bug")
    if session.model.phase != "ready":
        raise Conflict("finish the cycle first (update, or Step): a bug is planted between steps")
    if body.bug != "random" and body.bug not in planted_bugs.NAMES:
        raise Unprocessable(["body", "bug"], f"unknown bug {body.bug!r}; the bugs are "
                                             f"{', '.join(planted_bugs.NAMES)} or random")
    count = len(session.model.dense_layers)
    if body.layer is not None and body.layer > count:
        raise Unprocessable(["body", "layer"], f"no layer {body.layer}: the layers are 1 to {count}")
    rng = np.random.default_rng(body.seed if body.seed is not None else secrets.randbelow(2**32))
    try:
        bug, layer = planted_bugs.choose(session.model, body.bug, body.layer, rng)
    except ValueError as exc:
        raise Unprocessable(["body", "layer" if body.layer is not None else "bug"], str(exc)) from None
    step = planted_bugs.PlantedStep(session.model, bug, layer)
    step.guesses, step.revealed = [], False
    session.run.stepper = step
    session.restart_timeline()
    return {**bug_status(session), "step": session.model.step}


def guess_bug(session, name: str) -> dict:
    """Right or wrong; a right guess reveals the bug (and its layer)."""
    from engine import planted_bugs
    planted = _require_planted(session)
    if name not in planted_bugs.NAMES:
        raise Unprocessable(["body", "bug"], f"unknown bug {name!r}; the bugs are {', '.join(planted_bugs.NAMES)}")
    right = name == planted.bug
    planted.guesses.append(name)
    planted.revealed = planted.revealed or right
    return {"right": right, **bug_status(session)}


def give_up(session) -> dict:
    planted = _require_planted(session)
    planted.revealed = True
    return bug_status(session)


def remove_bug(session) -> dict:
    """Back to the correct (fast) step; the timeline starts afresh here."""
    _require_planted(session)
    if session.model.phase != "ready":
        raise Conflict("finish the cycle first (update, or Step)")
    session.run.stepper = fast.step_of(session.model)
    session.restart_timeline()
    return bug_status(session)


def refuse_export(session) -> None:
    """409 for a session with a planted bug: an export holds no bug, so its timeline would not replay."""
    if _planted(session) is not None:
        raise Conflict("a session with a planted bug cannot be exported (the bug is not part of the export): "
                       "give up or guess it, then remove it (DELETE .../bug), and export again")


def _require_planted(session):
    planted = _planted(session)
    if planted is None:
        raise Conflict("no bug is planted in this session: POST .../bug first")
    return planted

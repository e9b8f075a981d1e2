"""A session's timeline in its export, and back: so an imported session can still go back in time.

The export's ``state`` gets a ``timeline`` entry: every branch without its keyframes (where it
starts, its settings, its one-off batches, its curves) and the timeline's first state, whose
weights and arrays travel with the export's other arrays under ``tl_`` names. On import the
session is put at that first state, each branch's start is rebuilt by replaying its parent (the
steps are deterministic), and the session goes to the exported position, which must give the
exported weights bit for bit (422 otherwise).
"""
from __future__ import annotations

import math

import numpy as np

from engine import optimizers
from engine.snapshot import capture

from . import session_state, travel
from .errors import Conflict, Unprocessable
from .timeline import Branch, Keyframes, set_penalties

LOC = ["body", "state", "timeline"]
PREFIX = "tl_"
MAX_REPLAY = 200_000        # steps an import may replay to rebuild the branches


def capture_timeline(session) -> tuple[dict, dict[str, np.ndarray]]:
    """(the timeline's plain data, its first state's arrays named tl_w0 ..., tl_schedule_order ...)."""
    tl = session.timeline
    root = tl.branches[0]
    with travel.visiting(session, root.start, 0):
        weights = session.model.get_weights()
        state, arrays = session_state.capture(session)
    data = {"branches": [b.export() for b in tl.branches.values()], "current": tl.current,
            "step": session.model.step, "loss_offset": tl.loss_offset, "first_state": state}
    out = {f"{PREFIX}w{i}": w for i, w in enumerate(weights)}
    out.update({PREFIX + name: a for name, a in arrays.items()})
    return data, out


def _int(value, loc, low=0, high=None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        raise Unprocessable(LOC + loc, f"must be a whole number ≥ {low}" + (f" and ≤ {high}" if high is not None
                                                                              else "") + f", got {value!r}")
    return value


def _branch(entry, i: int, known: dict, n_train: int, max_batch: int, n_dense: int) -> Branch:
    """One exported branch checked: its parent known, its steps inside the parent's, its settings valid."""
    loc = ["branches", i]
    if not isinstance(entry, dict):
        raise Unprocessable(LOC + loc, "must be an object")
    bid = _int(entry.get("id"), loc + ["id"])
    parent = entry.get("parent")
    if bid in known or (bid == 0) != (parent is None) or (parent is not None and parent not in known):
        raise Unprocessable(LOC + loc, "branches come in order: ids unique, the first one (id 0) without a "
                            "parent, every other one after its parent")
    start, head = _int(entry.get("start"), loc + ["start"]), _int(entry.get("head"), loc + ["head"])
    if head < start or (parent is not None and not known[parent].start <= start <= known[parent].head):
        raise Unprocessable(LOC + loc + ["start"], "must lie within its parent's steps, and head ≥ start")
    opt = entry.get("optimizer")
    try:
        optimizers.get(dict(opt))
    except (TypeError, ValueError) as exc:
        raise Unprocessable(LOC + loc + ["optimizer"], str(exc)) from None
    batch = _int(entry.get("batch_size"), loc + ["batch_size"], 1, max_batch)
    oneoff = {}
    for key, rows in (entry.get("oneoff") or {}).items():
        if not str(key).isdigit() or not isinstance(rows, list) or not rows or any(
                isinstance(r, bool) or not isinstance(r, int) or not 0 <= r < n_train for r in rows):
            raise Unprocessable(LOC + loc + ["oneoff", str(key)], f"rows must be training row numbers 0..{n_train - 1}")
        oneoff[int(key)] = rows
    losses = entry.get("batch_loss") or []
    if not isinstance(losses, list) or any(v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))
                                                               or not math.isfinite(v)) for v in losses):
        raise Unprocessable(LOC + loc + ["batch_loss"], "must be a list of finite numbers or nulls")
    epochs = entry.get("epochs") or []
    if not isinstance(epochs, list) or any(not isinstance(e, list) or len(e) != 2 or not isinstance(e[1], dict)
                                           or isinstance(e[0], bool) or not isinstance(e[0], int) for e in epochs):
        raise Unprocessable(LOC + loc + ["epochs"], "must be a list of [step, logs] pairs")
    diverged = entry.get("diverged")
    penalties = entry.get("regularization")
    if not isinstance(penalties, list) or len(penalties) != n_dense or any(
            p is not None and not (isinstance(p, dict) and set(p) <= {"l1", "l2"} and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in p.values()))
            for p in penalties):
        raise Unprocessable(LOC + loc + ["regularization"], f"must list {n_dense} kernel penalties "
                            "({\"l1\", \"l2\"} in [0, 1], or null)")
    return Branch(bid, parent, start, str(entry.get("changed", "")), dict(opt), batch, head, list(losses),
                  [(s, dict(logs)) for s, logs in epochs], oneoff, {}, diverged if isinstance(diverged, dict) else None,
                  list(penalties))


def _use_settings(session, b: Branch) -> None:
    """The branch's optimizer (carrying the parent's state when it is the same one, as a PATCH does),
    batch size and kernel penalties, exactly as exported."""
    old, new = session.model.optimizer, optimizers.get(dict(b.optimizer))
    if type(new) is type(old):
        new.carry_state_from(old)
    session.model.optimizer = new
    session.run.schedule.batch_size = b.batch_size
    set_penalties(session.model, b.regularization)
    session.config = {**session.config, "optimizer": dict(b.optimizer), "batch_size": b.batch_size}


def restore_timeline(session, data, arrays: dict[str, np.ndarray], max_batch: int) -> None:
    """Rebuild the exported timeline on ``session`` (already at the exported state, which it returns to)."""
    if not isinstance(data, dict) or not isinstance(data.get("branches"), list) or not data["branches"]:
        raise Unprocessable(LOC, "must hold the export's branches")
    n = session.data.n_train
    known: dict[int, Branch] = {}
    for i, entry in enumerate(data["branches"]):
        b = _branch(entry, i, known, n, max_batch, len(session.model.dense_layers))
        known[b.id] = b
    current = data.get("current")
    if current not in known:
        raise Unprocessable(LOC + ["current"], f"must be one of the branch ids {sorted(known)}")
    step = session.model.step
    if not known[current].start <= step <= known[current].head:
        raise Unprocessable(LOC + ["current"], f"the exported step {step} is not on branch {current}")
    root = known[0]
    offset = data.get("loss_offset", 0)
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= root.start:
        raise Unprocessable(LOC + ["loss_offset"], f"must be a whole number in 0..{root.start}")
    for i, b in enumerate(known.values()):
        if len(b.batch_loss) != b.head - offset:
            raise Unprocessable(LOC + ["branches", i, "head"], f"must match its batch losses: {len(b.batch_loss)} "
                                f"of them end at step {len(b.batch_loss) + offset}, not {b.head}")
    if sum(b.head - b.start for b in known.values()) + step - root.start > MAX_REPLAY:
        raise Unprocessable(LOC, f"rebuilding this timeline would replay more than {MAX_REPLAY} steps")
    expected = session.model.get_weights()
    first = {k[len(PREFIX):]: v for k, v in arrays.items()
             if k.startswith(PREFIX) and not k[len(PREFIX):].startswith("w")}     # its schedule and slots
    weights = [arrays[f"{PREFIX}w{i}"] for i in range(len(expected)) if f"{PREFIX}w{i}" in arrays]
    from .session_io import check_weights
    check_weights(weights, session.model)
    session.model.set_weights(weights)
    session.model.optimizer = optimizers.get(dict(root.optimizer))           # the first branch's settings
    set_penalties(session.model, root.regularization)
    session.run.schedule.batch_size = root.batch_size
    session.config = {**session.config, "optimizer": dict(root.optimizer), "batch_size": root.batch_size}
    session_state.restore(session, data.get("first_state") or {}, first)     # a timeline starting there
    tl = session.timeline
    if tl.branches[0].start != root.start:
        raise Unprocessable(LOC + ["branches", 0, "start"], "must be the first state's step")
    tl.loss_offset = offset
    root.keyframes = tl.branches[0].keyframes
    tl.branches = {0: root}
    for b in list(known.values())[1:]:
        try:
            tl.room_for_a_branch()
        except Conflict as exc:
            raise Unprocessable(LOC + ["branches"], exc.message) from None
        tl.current = b.parent
        tl.seek(b.start, b.parent)
        _use_settings(session, b)
        b.keyframes = Keyframes({b.start: capture(session.run)})
        tl.branches[b.id] = b
    tl._next_id = max(known) + 1
    tl.seek(step, current)
    session._follow_branch()
    got = session.model.get_weights()
    if any(not np.array_equal(a, e) for a, e in zip(got, expected)):
        raise Unprocessable(LOC, "replaying the timeline does not give the exported weights (was it edited, "
                            "or exported by another version?)")

"""Going back in time in a session: seek, branch, a settings change as a branch (app/timeline.py
keeps the steps). No maths: every number is the engine's, replayed exactly."""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from engine.errors import Diverged

from . import frames
from .errors import Conflict, NotFound, Unprocessable
from .timeline import layer_penalties

PHASES = ("ready", "forward", "backward")


def describe(before: tuple, after: tuple) -> str:
    """What changed between two (optimizer config, batch size, kernel penalties) settings, for the
    branch list."""
    (old, old_batch, old_reg), (new, new_batch, new_reg) = before, after
    parts = []
    if old.get("name") != new.get("name"):
        parts.append(f"{new.get('name')} (was {old.get('name')})")
    else:
        for key in sorted(set(old) | set(new)):
            if key != "name" and old.get(key) != new.get(key):
                symbol = "η" if key == "learning_rate" else key
                parts.append(f"{symbol} {old.get(key, '—')} → {new.get(key, '—')}")
    if old_batch != new_batch:
        parts.append(f"batch size {old_batch} → {new_batch}")
    if old_reg != new_reg:
        parts.append(f"penalty {describe_penalty(old_reg)} → {describe_penalty(new_reg)}")
    return ", ".join(parts) or "no change"


def describe_penalty(specs: list) -> str:
    """A list of kernel penalties, short: "none", "L2 0.001", "L1 0.01 + L2 0.001", or per layer."""
    def one(spec):
        if not spec:
            return "none"
        parts = [f"{k.upper()} {spec[k]:g}" for k in ("l1", "l2") if spec.get(k)]
        return " + ".join(parts) or "none"
    names = [one(s) for s in specs]
    return names[0] if len(set(names)) <= 1 else "[" + ", ".join(names) + "]"


def _settings(session) -> tuple[dict, int, list]:
    return (dict(session.config["optimizer"]), session.config["batch_size"],
            layer_penalties(session.model))


@contextmanager
def changing(session):
    """Around a change of the optimizer or the batch size: it applies from the current step, on a new
    branch (unless nothing was stepped on the current one since it began). A half-done cycle is taken
    back to where it began and done again after the change: the same batch, the same z, a and δ."""
    if session.diverged:                 # nothing to branch from: the change applies as it is
        yield
        return
    tl, run = session.timeline, session.run
    if not tl.at_fresh_start():
        tl.room_for_a_branch()           # a 409 now, before anything changed
    redo = _half_done(session)
    if redo is not None:
        tl.seek(session.model.step, tl.current)
    before = _settings(session)
    forked = None if tl.at_fresh_start() else tl.fork("")
    try:
        yield
    except BaseException:
        if forked is not None:           # nothing changed: the branch goes again
            tl.current = forked.parent
            del tl.branches[forked.id]
        raise
    finally:
        if forked is None or forked.id in tl.branches:
            if forked is not None:
                forked.changed = describe(before, _settings(session))
            tl.settle(*_settings(session))
        _redo(run, redo)


def _check_position(session, step, branch) -> object:
    tl = session.timeline
    if isinstance(step, bool) or not isinstance(step, int):
        raise Unprocessable(["body", "step"], "must be an integer step number")
    if branch is not None and branch not in tl.branches:
        raise NotFound(f"no branch {branch} in this session's timeline (it has {sorted(tl.branches)})")
    try:
        return tl.locate(step, branch)
    except ValueError as exc:
        raise Unprocessable(["body", "step"], str(exc)) from None


def seek(session, step: int, branch: int | None = None, phase: str = "ready") -> dict:
    """Stand at ``step`` of ``branch`` (the current one by default). phase "ready": the answer is that
    step's frame, as Step answered it (W before the update, z, a, δ, ∂cost/∂W, ΔW, W after);
    "forward" / "backward": the state after ``step`` updates with the next batch's forward (and
    backward) done, as those buttons answer (after Update, one phase back is the step before it
    at phase "backward")."""
    if phase not in PHASES:
        raise Unprocessable(["body", "phase"], f"must be one of {list(PHASES)}")
    target = _check_position(session, step, branch)
    tl = session.timeline
    session.diverged = None
    if phase == "ready" and step > tl.branches[0].start:
        before = tl.locate(step - 1, target.id)
        stuck = _go(session, step - 1, before.id)
        if stuck is not None:
            return stuck
        session._follow_branch()
        try:
            session.run.forward(before.oneoff.get(step - 1))     # the batch it took, as recorded
        except Diverged as exc:
            return _answer(session, session._diverged_answer(exc))
        frame = session._step()
        if tl.current != target.id and not session.diverged:   # the branch's first step was taken on
            stuck = _go(session, step, target.id)              # its parent: stand on the branch
            if stuck is not None:
                return stuck
        session._follow_branch()
        return _answer(session, frame)
    stuck = _go(session, step, target.id)
    if stuck is not None:
        return stuck
    session._follow_branch()
    if phase == "ready":
        return _answer(session, {"step": step, "phase": "ready"})
    frame = session.forward(target.oneoff.get(step))
    if phase == "backward" and frame.get("phase") == "forward":
        back = session.backward()
        frame = {**frame, **{k: v for k, v in back.items() if k != "layers"},
                 "layers": frames.merge_layers(frame["layers"], back.get("layers", []))}
    return _answer(session, frame)


def _go(session, step: int, branch: int) -> dict | None:
    """Seek the timeline; None, or the diverged answer when the state there is not finite (the last
    update before a divergence is recorded when its test was deferred)."""
    try:
        session.timeline.seek(step, branch)
    except Diverged as exc:
        return _answer(session, session._diverged_answer(exc))
    return None


def branch(session, step: int | None, branch: int | None, optimizer: dict | None,
           batch_size: int | None, regularization: dict | None = None) -> dict:
    """A new branch from ``step`` of ``branch`` (default: where the session stands) with another
    optimizer (its settings), batch size and/or kernel penalty; the session stands at its start."""
    if optimizer is None and batch_size is None and regularization is None:
        raise Unprocessable(["body"], "give optimizer, batch_size and/or regularization: a branch without "
                            "a change would replay the same steps")
    tl = session.timeline
    step = session.model.step if step is None else step
    target = _check_position(session, step, branch)
    session.diverged = None
    if _go(session, step, target.id) is not None:
        raise Conflict(f"the weights at step {step} are not finite: branch from an earlier step "
                       "(POST .../post-mortem finds the last finite one)")
    session._follow_branch()
    changes = {}
    with changing(session):
        if optimizer is not None:
            changes["optimizer"] = session._set_optimizer(optimizer)
        if batch_size is not None:
            changes["batch_size"] = session._set_batch_size(batch_size)
        if regularization is not None:
            changes["regularization"] = session._set_regularization(regularization)
    return {**session.public(), "changes": changes, "timeline": tl.public()}


def _answer(session, frame: dict) -> dict:
    return {**frame, "state": session.state(), "position": session.timeline.public()["position"]}


@contextmanager
def visiting(session, step: int, branch: int):
    """Stand at ``step`` of ``branch`` for a while (to read the state there), then come back to where
    the session stood, a half-done cycle included: exact both ways, as every seek is."""
    tl, run = session.timeline, session.run
    home, here = tl.current, session.model.step
    redo = _half_done(session)
    tl.seek(step, branch)
    try:
        yield
    finally:
        tl.seek(here, home)
        session._follow_branch()
        _redo(run, redo)


def _half_done(session) -> tuple | None:
    """(the rows of a half-done cycle, None for the scheduled batch; its phase), or None."""
    pending = session.run.pending
    if pending is None:
        return None
    return (None if pending.scheduled else pending.rows.tolist(), session.model.phase)


def _redo(run, redo: tuple | None) -> None:
    """Do a half-done cycle again (``_half_done``'s answer): the same batch, the same z, a and δ."""
    if redo is not None:
        rows, phase = redo
        run.forward(rows)
        if phase == "backward":
            run.backward()


def reset_to_start(session) -> bool:
    """Reset to the initial weights as a move in time: back to step 0 of the first branch (a branch
    from there if the settings changed since), so the steps taken stay reachable. False (the caller
    rebuilds) when the timeline does not begin at those weights (an imported session)."""
    tl = session.timeline
    root = tl.branches[0]
    start = root.keyframes.get(0)
    if root.start != 0 or start is None or any(not np.array_equal(a, b) for a, b in
                                               zip(start.weights, session.initial_weights)):
        return False
    wanted = _settings(session)
    session.diverged = None
    tl.seek(0, 0)
    session._follow_branch()
    if wanted != _settings(session):
        with changing(session):
            session._set_optimizer(dict(wanted[0]))
            session._set_batch_size(wanted[1])
            session._use_penalties(wanted[2])
    return True

"""After a divergence: the last finite step, the gradient health of the steps before it, and a rate
to branch with (a range test from that state). No maths of its own: the numbers are the replayed
steps' ∂cost/∂W and ΔW, and engine/lr_finder.py's range test."""
from __future__ import annotations

import math

import numpy as np

from engine.activations import overflow_ignored
from engine.errors import Diverged
from engine.lr_finder import range_test

from .errors import Conflict
from .session_io import model_copy

WINDOW = 50             # steps before the last finite one whose gradients are shown
OUT_OF_LINE = 10.0      # a layer's ‖∂W‖ this many times its median over the window's first half
RANGE_STEPS = 100       # batches of the range test from the last finite state


def _norm(a) -> float:
    value = float(np.linalg.norm(np.asarray(a, dtype=np.float64)))
    return value if math.isfinite(value) else None


def _last_finite(session, b) -> int:
    """The last step of the branch whose weights are all finite (the session is left standing there)."""
    tl = session.timeline
    k = min(b.head, session.model.step if tl.current == b.id else b.head)
    while True:
        try:
            tl.seek(k, b.id)
        except Diverged:                # its last update left a weight non-finite
            k -= 1
            continue
        if all(np.isfinite(w).all() for w in session.model.get_weights()) or k <= b.start:
            return k
        k -= 1


def _health(session, b, first: int, last: int) -> tuple[list[int], list[dict]]:
    """Replay steps first+1..last (and try last+1) recording each layer's ‖∂cost/∂W‖ and ‖ΔW‖/‖W‖."""
    tl, run = session.timeline, session.run
    tl.seek(first, b.id)
    layers = [{"index": number, "grad_norm": [], "update_ratio": []}     # W(l), l = 1 .. L−1
              for number in range(1, len(session.model.dense_layers) + 1)]
    steps = []
    for k in range(first, last + 1):
        try:
            run.forward(b.oneoff.get(k))
            trace = run.backward(check=False)
            grads = [_norm(entry.dW) for entry in trace.layers]
            before = [_norm(entry.W) for entry in trace.layers]
            trace = run.update(return_deltas=True, check=False)
            ratios = [(_norm(e.dW_applied) / w) if w and _norm(e.dW_applied) is not None else None
                      for e, w in zip(trace.layers, before)]
        except Diverged:
            break
        steps.append(k + 1)
        for entry, g, r in zip(layers, grads, ratios):
            entry["grad_norm"].append(g)
            entry["update_ratio"].append(r)
    return steps, layers


def _out_of_line(steps: list[int], layers: list[dict]) -> dict | None:
    """The first (step, layer) whose ‖∂W‖ exceeds OUT_OF_LINE × its median over the first half."""
    half = max(len(steps) // 2, 1)
    first = None
    for entry in layers:
        base = [g for g in entry["grad_norm"][:half] if g is not None]
        if not base:
            continue
        median = float(np.median(base))
        for i, g in enumerate(entry["grad_norm"]):
            if g is None or (median > 0 and g > OUT_OF_LINE * median):
                if first is None or steps[i] < first["step"]:
                    first = {"layer": entry["index"], "step": steps[i], "grad_norm": g, "median": median}
                break
    return first


def _suggested_rate(session) -> tuple[float | None, dict]:
    """A range test from the session's current weights (the session is not touched)."""
    return suggested_rate(session.config, session.data, session.model.get_weights(),
                          float(session.model.optimizer.current_learning_rate()))


def suggested_rate(config: dict, data, weights: list, lr: float) -> tuple[float | None, dict]:
    """A range test from ``weights`` up to η = ``lr`` on a new model built from ``config``."""
    model, y_train = model_copy(config, data, weights)
    out = range_test(model, data.x_train, y_train, batch_size=config["batch_size"],
                     min_lr=lr / 1e4, max_lr=lr, steps=RANGE_STEPS)
    return out["suggested_learning_rate"], {"min_lr": lr / 1e4, "max_lr": lr, "stopped": out["stopped"],
                                           "suggestions": out["suggestions"]}


def post_mortem(session) -> dict:
    """Where the current branch diverged, the last finite step, ‖∂cost/∂W‖ and ‖ΔW‖/‖W‖ per layer over
    up to WINDOW steps before it and the step after it, the first layer out of line, and a learning
    rate from a range test: at the last finite state, or (when every rate blows up from there) at
    the step before the first layer went out of line, or at the window's start. The session is left
    standing, alive, at the step that suggestion is for (``branch_from``)."""
    tl = session.timeline
    b = tl.branch
    where = session.diverged or b.diverged
    if where is None:
        raise Conflict("this branch has not diverged: a post-mortem needs a divergence (see state.diverged)")
    with overflow_ignored():            # the replayed steps overflow on purpose; Diverged says where
        last = _last_finite(session, b)
        first = max(last - WINDOW, b.start)
        steps, layers = _health(session, b, first, last)
        grown = _out_of_line(steps, layers)
        candidates = [last, *([grown["step"] - 1] if grown else []), first, b.start]
        suggested, test, branch_from = None, {}, last
        for step in dict.fromkeys(max(c, b.start) for c in candidates):
            tl.seek(step, b.id)
            suggested, test = _suggested_rate(session)
            branch_from = step
            if suggested is not None:
                break
    session.diverged = None
    session._follow_branch()
    return {"diverged": where, "last_finite_step": last, "branch": b.id, "steps": steps, "layers": layers,
            "first_out_of_line": grown, "suggested_learning_rate": suggested, "branch_from": branch_from,
            "learning_rate": session.model.optimizer.current_learning_rate(), "range_test": test,
            "state": session.state()}

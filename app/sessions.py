"""A training session's state machine: which batch is next, the half-done cycle, history, divergence.

No maths here, and no training loop: every number comes from the engine's ``Run`` (engine/runner.py),
the steps ``fit`` takes, one phase at a time for the buttons, a step at a time for Play, the rest of
an epoch at once for Epoch. Callers hold ``session.lock`` around every method that touches the
model (the routes do it through ``Session.locked``).
"""
from __future__ import annotations

import functools
import secrets
import threading
import time
from contextlib import contextmanager

from engine import optimizers
from engine.activations import overflow_ignored, overflow_is_ignored
from engine.compare import build_run
from engine.errors import Diverged
from engine.runner import Run

from . import curves, frames, travel
from .errors import Conflict, NotFound, Unprocessable
from .tensors import finite
from .timeline import DEFAULT_BUDGET, Timeline, layer_penalties, set_penalties

ORDER_HELP = "the cycle is forward → backward → update (or /step for all three)"
CHEAP_WORK = 20_000     # parameters × batch size below which one step takes well under a millisecond
# parameters × rows below which a forward pass over a grid (predict-grid at 40 × 40) takes about a
# millisecond: 0.7 ms for 2-8-8-2 (182,400), 1.1 ms for 2-64-64-2 (7.2 million), 2026-12-03; and
# at most 64 × 64 rows (a bigger grid's answer is megabytes of JSON to write: a worker thread)
CHEAP_GRID_WORK, CHEAP_GRID_ROWS = 8_000_000, 64 * 64


def _quiet(method):
    """Run a phase with NumPy's overflow and invalid-value warnings off: a divergence is reported by
    the engine's Diverged (step, layer, quantity) and the session's phase, not as console noise."""
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        if overflow_is_ignored():       # nested (step inside play_step): already quiet
            return method(self, *args, **kwargs)
        with overflow_ignored():
            return method(self, *args, **kwargs)
    return run


def _with_updated(layers: list[dict], updated: list[dict]) -> list[dict]:
    """A step's layer entries (W, b as its forward pass used them) with the update's: ΔW, Δb, slots,
    and W_updated, b_updated (the weights after it)."""
    after = {"W": "W_updated", "b": "b_updated"}
    return frames.merge_layers(layers, [{after.get(k, k): v for k, v in e.items()} for e in updated])


def _penalty_config(config: dict, penalties: list) -> dict:
    """The config's "regularization" and each layer's for these kernel penalties (one network-wide
    entry when every layer has the same)."""
    same = all(p == penalties[0] for p in penalties)
    layers = [{**layer, "regularization": None if same else p} for layer, p in zip(config["layers"], penalties)]
    return {"regularization": penalties[0] if same else None, "layers": layers}


def new_id() -> str:
    """128 random bits as 32 hex digits."""
    return secrets.token_hex(16)


class Session:
    """One network being trained on one data set, stepped by requests."""

    def __init__(self, config: dict, data, weights=None, session_id: str | None = None,
                 owner: str | None = None):
        self.id = session_id or new_id()
        self.config, self.data = config, data
        self.owner = owner                      # the client id (cookie) of whoever created it
        self.holders = 0                        # pages holding it open (WebSockets with ?hold=1)
        self.released = 0                       # bumped each time the last holder leaves
        self.deleted = threading.Event()        # set when the store drops it: a running epoch stops
        self.activity: tuple[str | None, float] = (None, 0.0)   # a long action running, and since when
        self.lock = threading.Lock()
        self.report_lock = threading.Lock()     # one costly report at a time, outside ``lock`` (health, confusion)
        self.last_used = time.monotonic()
        self._build(weights)

    # ----- building ---------------------------------------------------------------------
    def _build(self, weights=None) -> None:
        _, self.model, self.y_train, self.y_test = build_run(self.config, data=self.data)
        if self.config.get("loss") is None:      # the default loss, as chosen for the data set
            self.config = {**self.config, "loss": self.model.loss.name}
        self.initial_weights = self.model.get_weights()      # from the seed: Reset goes back to them
        if weights is not None:
            self.model.set_weights(weights)
        self._n_params = self.model.count_params()
        self.run = Run(self.model, self.data.x_train, self.y_train, self.config["batch_size"],
                       validation=(self.data.x_test, self.y_test))
        self.diverged: dict | None = None
        self.restart_timeline()

    def restart_timeline(self) -> None:
        """A new timeline whose first step is where the run stands (a new or imported session)."""
        self.timeline = Timeline(self.run, self.config["optimizer"],    # every step, to go back to
                                 budget=getattr(self, "timeline_budget", DEFAULT_BUDGET))

    # what the run knows, read by the routes and the export
    schedule = property(lambda self: self.run.schedule, doc="the run's batch order")
    history = property(lambda self: self.run.history, doc="batch losses and per-epoch logs")
    epoch = property(lambda self: self.run.epoch, doc="epochs completed")
    last_logs = property(lambda self: self.run.last_logs, doc="the last completed epoch's logs")

    @property
    def n_params(self) -> int:
        return self._n_params

    @property
    def cheap(self) -> bool:
        """True when one phase of a step is tiny (answered on the event loop, no thread hop)."""
        return self._n_params * self.config["batch_size"] <= CHEAP_WORK

    def cheap_grid(self, rows: int) -> bool:
        """True when one forward pass over ``rows`` rows is small enough to answer on the event loop."""
        return rows <= CHEAP_GRID_ROWS and self._n_params * rows <= CHEAP_GRID_WORK

    def touch(self) -> None:
        self.last_used = time.monotonic()

    @contextmanager
    def locked(self):
        """Hold the session's lock (one request at a time) and mark it as used."""
        with self.lock:
            self.last_used = time.monotonic()
            yield self

    # ----- state ------------------------------------------------------------------------
    @property
    def phase(self) -> str:
        return "diverged" if self.diverged else self.model.phase

    def state(self) -> dict:
        """epoch (completed), step (updates applied), phase, where we are in the epoch, latest metrics."""
        return {
            "epoch": self.epoch, "step": self.model.step, "phase": self.phase,
            "batch": self.schedule.batch_index, "steps_per_epoch": self.schedule.steps_per_epoch,
            "learning_rate": self.model.optimizer.learning_rate,
            "metrics": {k: finite(v) for k, v in self.last_logs.items()},
            "batch_loss": finite(self.history["batch_loss"][-1]) if self.history["batch_loss"] else None,
            "diverged": self.diverged, "n_params": self.n_params,
            "branch": self.timeline.current, "branch_head": self.timeline.branch.head,
        }

    def public(self) -> dict:
        return {"id": self.id, "config": self.config, "state": self.state(),
                "dataset": self.data.info()}

    def _diverged_answer(self, exc: Diverged) -> dict:
        self.diverged = {"step": exc.step, "layer": exc.layer, "quantity": exc.quantity, "epoch": exc.epoch}
        self.run.pending = None
        self.timeline.diverged(self.diverged)
        return {"phase": "diverged", "step": self.model.step, "state": self.state()}

    def _require_alive(self) -> None:
        if self.diverged:
            raise Conflict(f"the session diverged at step {self.diverged['step']} "
                           f"({self.diverged['quantity']}); POST /reset to start again")

    # ----- the cycle, one phase at a time -------------------------------------------------
    def _forward_frame(self, trace, big: int | None = None) -> dict:
        batch = frames.batch_part(trace, self.run.pending.rows, self._sparse_classes)
        frame = {"step": self.model.step, "phase": "forward", "batch": batch,
                 "loss": trace.loss, "layers": frames.forward_layers(trace, big)}
        if any(d.kernel_regularizer is not None for d in self.model.dense_layers):
            frame["penalty"] = self.model.penalty()        # part of the loss: l1·Σ|W| + l2·ΣW²
        return frame

    @property
    def _sparse_classes(self) -> int | None:
        """The number of classes when the loss takes class labels (sent as one-hot rows), else None."""
        return self.model.output_units if self.model.loss.targets == "sparse" else None

    @_quiet
    def forward(self, indices=None) -> dict:
        """Forward on the epoch's next minibatch, or on the chosen rows (a one-off batch)."""
        self._require_alive()
        if self.model.phase != "ready":
            waiting = "backward" if self.model.phase == "forward" else "update"
            raise Conflict(f"a forward pass is waiting for its {waiting}; {ORDER_HELP}")
        if indices is not None:
            self._check_indices(indices)
        self._before_forward(indices)
        try:
            trace = self.run.forward(indices)
        except Diverged as exc:
            return self._diverged_answer(exc)
        return self._forward_frame(trace)

    def _before_forward(self, rows=None) -> None:
        """Tell the timeline a forward pass is about to take the next batch (or ``rows``): off the
        recorded future, a new branch starts here."""
        if self.timeline.before_forward(rows) is not None:
            self._follow_branch()

    def _follow_branch(self) -> None:
        """The config shows the current branch's settings."""
        b = self.timeline.branch
        self.config = {**self.config, "optimizer": dict(b.optimizer), "batch_size": b.batch_size,
                       **_penalty_config(self.config, b.regularization)}

    def _check_indices(self, indices) -> None:
        if not isinstance(indices, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in indices):
            raise Unprocessable(["body", "indices"], "must be a list of training row numbers (integers)")
        if not indices:
            raise Unprocessable(["body", "indices"], "give at least one training row")
        bad = [i for i in indices if not 0 <= i < self.data.n_train]
        if bad:
            raise Unprocessable(["body", "indices"],
                                f"rows must lie in 0..{self.data.n_train - 1}, got {bad[:5]}")

    @_quiet
    def backward(self) -> dict:
        self._require_alive()
        if self.model.phase != "forward":
            what = "no forward pass to go back through" if self.model.phase == "ready" else \
                "the gradients of this batch are computed already (update next)"
            raise Conflict(f"backward: {what}; {ORDER_HELP}")
        try:
            trace = self.run.backward()
        except Diverged as exc:
            return self._diverged_answer(exc)
        return {"step": self.model.step, "phase": "backward", "loss": trace.loss,
                "layers": frames.backward_layers(trace)}

    @_quiet
    def update(self) -> dict:
        self._require_alive()
        if self.model.phase != "backward":
            raise Conflict(f"update: no gradients to apply (phase {self.model.phase}); {ORDER_HELP}")
        try:
            trace = self.run.update(return_deltas=True)
        except Diverged as exc:
            return self._diverged_answer(exc)
        self.timeline.after_update()
        return {"step": self.model.step, "phase": "ready", "learning_rate": trace.learning_rate,
                "layers": frames.update_layers(trace, self.model), "state": self.state()}

    @_quiet
    def step(self, big: int | None = None) -> dict:
        """Finish a half-done cycle, or run forward → backward → update on the next minibatch; the
        answer has every phase's tensors (W, b as the forward pass used them, then W_updated);
        ``big``: see ``_step``."""
        self._require_alive()
        return self._step(big)

    def _step(self, big: int | None = None) -> dict:
        """``step``; ``big`` (a play frame's threshold): of layers with more weights, what the frame
        leaves out (frames.LEAN_DROP) is not copied."""
        run = self.run
        try:
            if self.model.phase == "ready":
                self._before_forward()
                forward = self._forward_frame(run.forward(), big)
            else:
                forward = self._forward_frame(self.model.trace, big) if run.pending else {}
            if self.model.phase == "forward":
                run.backward()
            backward = frames.backward_layers(self.model.trace)
            trace = run.update(return_deltas=True)
        except Diverged as exc:
            return self._diverged_answer(exc)
        self.timeline.after_update()
        layers = _with_updated(frames.merge_layers(forward.get("layers", []), backward),
                               frames.update_layers(trace, self.model, big))
        return {**forward, "step": self.model.step, "phase": "ready", "learning_rate": trace.learning_rate,
                "layers": layers, "state": self.state()}

    @_quiet
    def step_quiet(self) -> dict:
        """As ``step`` but builds no frame (the player's steps that nobody will see): the run's step
        without ΔW, its finiteness tests deferred to the next forward as an Epoch's are (12 % of a
        quiet MNIST step; a non-finite value still raises Diverged naming the step and quantity
        where it appeared). Answers {"phase", "step"}, or the diverged answer; a half-done cycle
        goes through ``step``."""
        if self.diverged or self.model.phase != "ready":
            return self.step()      # raises the 409 if diverged
        self._before_forward()
        try:
            self.run.step(check=False)
        except Diverged as exc:
            return self._diverged_answer(exc)
        self.timeline.after_update()
        return {"phase": "ready", "step": self.model.step}

    def play_step(self, full: bool, big: int | None = None, wait: bool = True) -> dict | None:
        """One step while playing, under the session's lock: ``step`` (a frame of copies, for the
        caller to encode after the lock is released; lean for layers above ``big`` weights) if
        ``full``, else ``step_quiet``. ``wait=False``: None at once if another request holds the
        lock (the player runs in the event loop's thread, which must not wait for one)."""
        if not self.lock.acquire(blocking=wait):
            return None
        try:
            self.last_used = time.monotonic()
            return self.step(big) if full else self.step_quiet()
        finally:
            self.lock.release()

    def progress(self) -> dict:
        """Where a long action stands, read without the lock (plain ints, written by the one thread
        that holds it): the page polls it while an Epoch runs."""
        action, since = self.activity
        return {"action": action, "seconds": round(time.monotonic() - since, 3) if action else 0.0,
                "step": self.model.step, "epoch": self.epoch, "batch": self.schedule.batch_index,
                "steps_per_epoch": self.schedule.steps_per_epoch}

    @_quiet
    def run_epoch(self) -> dict:
        """The rest of the current epoch (a whole one at its start), finishing a half-done cycle
        first; its last minibatch is taken as Step takes one, so the answer shows where it ended."""
        self._require_alive()
        self.activity = ("epoch", time.monotonic())
        try:
            return self._run_epoch()
        finally:
            self.activity = (None, 0.0)

    def _run_epoch(self) -> dict:
        start, run = self.epoch, self.run
        last = {}
        if self.model.phase != "ready":
            last = self._step()
        if self.epoch == start and not self.diverged:
            try:
                run.run_epoch(should_stop=self._epoch_should_stop, on_batch=self._epoch_batch, leave_last=True)
            except Diverged as exc:
                return self._diverged_answer(exc)
            if self.deleted.is_set():
                raise NotFound(f"the session was deleted while its epoch ran (stopped at step "
                               f"{self.model.step})")
            last = self._step()     # the epoch's last minibatch, with every phase's tensors
        if self.diverged:
            return last
        answer = {"epoch": self.epoch, **{k: finite(v) for k, v in self.last_logs.items()},
                  "step": self.model.step, "phase": self.phase, "state": self.state()}
        if "batch" in last:
            answer.update({"batch": last["batch"], "batch_loss": last["loss"], "layers": last["layers"]})
        return answer

    def _epoch_should_stop(self) -> bool:
        if self.deleted.is_set():
            return True
        self._before_forward()
        return False

    def _epoch_batch(self, trace, batch) -> None:
        self.timeline.after_update()

    # ----- other actions ----------------------------------------------------------------
    def set_optimizer(self, changes: dict) -> dict:
        with travel.changing(self):
            return self._set_optimizer(changes)

    def _set_optimizer(self, changes: dict) -> dict:
        """Rebuild the optimizer with ``changes`` (checked hyperparameters, maybe a new "name"); the
        weights stay. The same optimizer keeps its state: the iteration count and every slot it still
        uses (slots it did not have start at their initial value); another one starts afresh.
        Answers what happened to the state: {"optimizer", "state": "kept"|"reset", "kept", "started"}."""
        old, current = self.model.optimizer, dict(self.config["optimizer"])
        name = changes.get("name", current["name"])
        same = type(optimizers.get(name)) is type(old)
        config = {**current, **changes} if same else dict(changes)
        config["name"] = current["name"] if same and "name" not in changes else name
        new = optimizers.get(config)
        if not same:
            config["learning_rate"] = new.learning_rate
        kept, started = new.carry_state_from(old) if same else ([], [])
        self.model.optimizer, self.config = new, {**self.config, "optimizer": config}
        state = "kept" if same else "reset"
        return {"optimizer": type(new).__name__, "state": state, "kept": kept, "started": started,
                "iterations": new.iterations}

    def set_batch_size(self, batch_size: int) -> dict:
        """A new batch size from the next batch drawn on (the epoch goes on in the same row order)."""
        with travel.changing(self):
            return self._set_batch_size(batch_size)

    def _set_batch_size(self, batch_size: int) -> dict:
        before = self.schedule.batch_size
        self.schedule.batch_size = int(batch_size)
        self.config = {**self.config, "batch_size": int(batch_size)}
        return {"from": before, "to": int(batch_size), "applies": "from the next batch"}

    def set_regularization(self, spec: dict | None) -> dict:
        """Put the penalty l1·Σ|W| + l2·ΣW² ({"l1", "l2"}; None or zeros: none) on every kernel from
        the next step on (a layer's own penalty included); the weights stay."""
        with travel.changing(self):
            return self._set_regularization(spec)

    def _set_regularization(self, spec: dict | None) -> dict:
        before = layer_penalties(self.model)
        self._use_penalties([spec] * len(self.model.dense_layers))
        return {"from": before, "to": layer_penalties(self.model), "applies": "from the next step"}

    def _use_penalties(self, penalties: list) -> None:
        """Each kernel's penalty ({"l1", "l2"} or None, input to output), in the model and the config."""
        set_penalties(self.model, penalties)
        self.config = {**self.config, **_penalty_config(self.config, layer_penalties(self.model))}

    def reset(self, weights: str = "initial", seed: int | None = None) -> None:
        """Start again: the same initial weights (step 0 of the timeline: the steps taken stay there to
        go back to), or new ones from ``seed`` (a random seed if None; a new timeline)."""
        if weights == "initial" and travel.reset_to_start(self):
            return
        if weights == "initial":
            self._build(self.initial_weights)
            return
        seed = seed if seed is not None else secrets.randbelow(2**32)
        self.config = {**self.config, "seed": seed}
        self._build()

    def history_public(self, points: int | None = None) -> dict:
        """The curves; each thinned to at most ``points`` values if given: every stride-th one (a
        power of 2, app/curves.py) and the newest, with their steps in ``batch_step`` and their
        epochs in ``epoch_number``. The page asks for 4000: a long play's whole curves went to it
        every 1.5 s (xor after 1,000,000 steps: 19 MB of batch losses, 0.9 s to answer)."""
        out, strides = {}, {"batch_loss": 1, "epoch": 1}
        for key, values in self.history.items():
            group = "batch_loss" if key == "batch_loss" else "epoch"
            kept, stride = curves.kept(len(values), points)
            if kept is None:
                out[key] = [finite(v) for v in values]
                continue
            out[key] = [finite(values[i]) for i in kept]
            where = "batch_step" if group == "batch_loss" else "epoch_number"
            out[where] = [i + 1 for i in kept]            # value i is step (or epoch) i + 1's
            strides[group] = stride
        return {"epoch": self.epoch, "step": self.model.step, "history": out,
                "batch_loss_stride": strides["batch_loss"], "epoch_stride": strides["epoch"]}

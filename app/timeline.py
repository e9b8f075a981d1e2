"""A session's timeline: every step it took, on branches, rebuilt on demand from keyframes.

No maths here. The engine's steps are deterministic (engine/runner.py), so a step needs no
recording beyond what is not: which rows a one-off batch took, and the settings (optimizer, batch
size) of each branch. A keyframe (engine/snapshot.py's RunState) is kept every ``interval`` steps
and at each branch's start; any other step is rebuilt by replaying from the keyframe before it,
exactly, bit for bit. The interval doubles whenever the keyframes outgrow ``budget`` bytes, so
memory stays bounded however long a session trains.

A branch starts at a step of its parent with a change (a learning rate, another optimizer, a
batch size, or another batch than the recorded one); branches share their past. Seeking back and
stepping on replays the same future; doing something else there starts a new branch, so nothing
already computed is lost.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from engine import optimizers
from engine.activations import overflow_ignored
from engine.builder import kernel_penalty, penalty_spec
from engine.snapshot import capture, restore

from .errors import Conflict

DEFAULT_INTERVAL = 10          # steps between keyframes to begin with (doubled to stay in budget)
DEFAULT_BUDGET = 32_000_000    # bytes of keyframes a session may keep (the server's timeline_bytes)
MAX_BRANCHES = 100             # branches a session's timeline keeps


class Keyframes(dict):
    """step → RunState, and ``nbytes``: their bytes, kept as keyframes come and go. A timeline
    checks its budget each time it keeps a keyframe; summing them all there made a quiet play step
    on xor grow with the session (705 µs after 20,000 steps; 209 µs with the count kept)."""

    def __init__(self, items=()):
        super().__init__(items)
        self.nbytes = sum(state.nbytes for state in self.values())

    def __setitem__(self, step: int, state) -> None:
        old = self.get(step)
        super().__setitem__(step, state)
        self.nbytes += state.nbytes - (old.nbytes if old is not None else 0)

    def __delitem__(self, step: int) -> None:
        self.nbytes -= self[step].nbytes
        super().__delitem__(step)

    def pop(self, step: int, *default):
        if step in self:
            self.nbytes -= self[step].nbytes
        return super().pop(step, *default)

    def _unsupported(self, *args, **kwargs):
        raise TypeError("Keyframes: set or delete one step at a time (its byte count follows)")

    update = setdefault = popitem = clear = __ior__ = _unsupported


@dataclass
class Branch:
    """One line of steps: from ``start`` (a step of ``parent``) to ``head``."""

    id: int
    parent: int | None                  # the branch it leaves (None: the first one)
    start: int                          # the step it starts from (its keyframe is kept)
    changed: str                        # what differs from the parent, for people
    optimizer: dict                     # the optimizer config of its steps
    batch_size: int
    head: int                           # its last step
    batch_loss: list                    # the batch losses of steps 1..head (the past included)
    epochs: list                        # (step at which an epoch ended, its logs), in order
    oneoff: dict = field(default_factory=dict)       # step k → rows of the one-off batch from k
    keyframes: Keyframes = field(default_factory=Keyframes)    # step → RunState
    diverged: dict | None = None        # where it diverged, if it did
    regularization: list = field(default_factory=list)   # each Dense kernel's {"l1", "l2"} (or None)

    def export(self) -> dict:
        """Everything but the keyframes (rebuilt by replaying on import), as plain JSON data."""
        return {**self.public(), "oneoff": {str(k): rows for k, rows in self.oneoff.items()},
                "batch_loss": list(self.batch_loss), "epochs": [[s, logs] for s, logs in self.epochs]}

    def public(self) -> dict:
        return {"id": self.id, "parent": self.parent, "start": self.start, "head": self.head,
                "changed": self.changed, "optimizer": self.optimizer, "batch_size": self.batch_size,
                "regularization": self.regularization, "epoch_steps": [step for step, _ in self.epochs],
                "oneoff_steps": sorted(self.oneoff), "diverged": self.diverged}


class Timeline:
    """The branches of one session's run, the current position, and the keyframes."""

    def __init__(self, run, optimizer: dict, interval: int = DEFAULT_INTERVAL, budget: int = DEFAULT_BUDGET):
        self.run, self.interval, self.budget = run, interval, budget
        step, history = run.model.step, run.history
        self.loss_offset = step - len(history["batch_loss"])    # losses before the first recorded one
        epochs = [(step, {k: history[k][i] for k in history if k != "batch_loss" and i < len(history[k])})
                  for i in range(len(history.get("loss", [])))]
        root = Branch(0, None, step, "start", dict(optimizer), run.schedule.batch_size, step,
                      list(history["batch_loss"]), epochs)
        root.regularization = layer_penalties(run.model)
        root.keyframes[step] = capture(run)
        self.branches: dict[int, Branch] = {0: root}
        self.current = 0
        self._next_id = 1

    # ----- where we are ------------------------------------------------------------------------
    @property
    def branch(self) -> Branch:
        return self.branches[self.current]

    def public(self, curves: bool = False, points: int = 3000) -> dict:
        out = {"branches": [b.public() for b in self.branches.values()],
               "position": {"branch": self.current, "step": self.run.model.step},
               "keyframe_interval": self.interval, "keyframes": sum(len(b.keyframes) for b in self.branches.values()),
               "keyframe_bytes": self.nbytes()}
        if curves:
            out["curves"] = {str(b.id): _thinned(b.start + 1, self._losses(b, b.start, b.head), points)
                             for b in self.branches.values()}
        return out

    def _losses(self, b: Branch, first: int, last: int) -> list:
        """b's batch losses of steps first+1..last."""
        lo, hi = max(first - self.loss_offset, 0), max(last - self.loss_offset, 0)
        return b.batch_loss[lo:hi]

    def nbytes(self) -> int:
        return sum(b.keyframes.nbytes for b in self.branches.values())

    # ----- recording, as the session steps -----------------------------------------------------
    def before_forward(self, rows) -> Branch | None:
        """Called before a forward pass at the current step: if the branch's recorded future takes
        another batch there, a new branch starts here (returned). (Which batch a step took is
        recorded by ``after_update``: a forward whose cycle is dropped leaves no trace.)"""
        b, k = self.branch, self.run.model.step
        rows = None if rows is None else [int(r) for r in rows]
        if k < b.head and b.oneoff.get(k) != rows:
            what = f"the rows {rows[:5]}{'…' if len(rows) > 5 else ''}" if rows else "the scheduled batch"
            return self.fork(f"{what} at step {k}")
        return None

    def after_update(self) -> None:
        """Called after every update: a step past the head extends the branch (its loss, an epoch
        that ended, a keyframe every ``interval`` steps)."""
        b, run = self.branch, self.run
        k = run.model.step
        if k <= b.head:
            return                                    # replaying the known future
        b.head = k
        took = run.last_update
        if took is not None and not took.scheduled:
            b.oneoff[k - 1] = [int(r) for r in took.rows]     # the rows the step from k − 1 took
        else:
            b.oneoff.pop(k - 1, None)
        b.batch_loss.append(run.history["batch_loss"][-1])
        if len(b.epochs) < len(run.history.get("loss", [])):
            b.epochs.append((k, dict(run.last_logs)))
        if k % self.interval == 0:
            self._keep(b, k)

    def diverged(self, info: dict) -> None:
        self.branch.diverged = dict(info)

    def _keep(self, b: Branch, k: int) -> None:
        b.keyframes[k] = capture(self.run)
        self._thin()

    def start_bytes(self) -> int:
        """Bytes of the branches' start keyframes, which are never dropped."""
        return sum(b.keyframes[b.start].nbytes for b in self.branches.values() if b.start in b.keyframes)

    def _thin(self) -> None:
        """Double the interval (dropping the keyframes off it) while the keyframes outgrow the budget
        and there is something left to drop."""
        while (kept := self.nbytes()) > self.budget and kept > self.start_bytes():
            self.interval *= 2
            for other in self.branches.values():
                other.keyframes = Keyframes((s, v) for s, v in other.keyframes.items()
                                            if s == other.start or s % self.interval == 0)

    def room_for_a_branch(self) -> None:
        """409 when one more branch would pass ``MAX_BRANCHES`` or make the branches' start keyframes
        alone outgrow the budget (nothing has changed then)."""
        if len(self.branches) >= MAX_BRANCHES:
            raise Conflict(f"the timeline has {len(self.branches)} branches, the most it keeps; delete some "
                             "(DELETE .../branches/{id}) to branch again")
        one = self.branches[0].keyframes[self.branches[0].start].nbytes if self.branches[0].keyframes else 0
        if self.start_bytes() + one > self.budget:
            raise Conflict(f"the branches' keyframes would pass this session's {self.budget:,} bytes "
                             "(timeline_bytes); delete some branches (DELETE .../branches/{id}) to branch again")

    # ----- branches ----------------------------------------------------------------------------
    def fork(self, changed: str, optimizer: dict | None = None, batch_size: int | None = None) -> Branch:
        """A new branch from the current step (the run stands between two steps), now current;
        ``optimizer``/``batch_size``: its settings when they change (the caller applies them to the
        run before the keyframe is taken: call ``settle`` after)."""
        self.room_for_a_branch()
        b, k = self.branch, self.run.model.step
        epochs = [(s, logs) for s, logs in b.epochs if s <= k]
        new = Branch(self._next_id, b.id, k, changed, dict(optimizer or b.optimizer),
                     batch_size or b.batch_size, k, list(self._losses(b, self.loss_offset, k)), epochs)
        new.oneoff = {s: r for s, r in b.oneoff.items() if s < k}
        new.regularization = list(b.regularization)
        self._next_id += 1
        self.branches[new.id] = new
        self.current = new.id
        new.keyframes[k] = capture(self.run)
        self._thin()
        return new

    def settle(self, optimizer: dict, batch_size: int, regularization: list | None = None) -> None:
        """The current branch's settings changed at its start (nothing stepped on it yet): keep
        them and the state as it is now."""
        b = self.branch
        b.optimizer, b.batch_size = dict(optimizer), batch_size
        b.regularization = layer_penalties(self.run.model) if regularization is None else list(regularization)
        b.keyframes[b.start] = capture(self.run)

    def at_fresh_start(self) -> bool:
        """Whether the run stands at the current branch's start with nothing stepped on it yet."""
        b = self.branch
        return self.run.model.step == b.start == b.head

    def delete(self, branch_id: int) -> list[int]:
        """Remove a branch and the branches that leave it; the first branch and the current one's
        line stay. Returns the ids removed (KeyError / ValueError for the caller's 404 / 409)."""
        if branch_id not in self.branches:
            raise KeyError(branch_id)
        line, b = set(), self.branch
        while b is not None:
            line.add(b.id)
            b = self.branches.get(b.parent) if b.parent is not None else None
        if branch_id == 0 or branch_id in line:
            raise ValueError("the first branch and the branches the current position stands on cannot be "
                             "deleted; switch to another branch first")
        doomed, grew = {branch_id}, True
        while grew:
            more = {b.id for b in self.branches.values() if b.parent in doomed} - doomed
            doomed |= more
            grew = bool(more)
        for i in doomed:
            del self.branches[i]
        return sorted(doomed)

    # ----- going back --------------------------------------------------------------------------
    def locate(self, step: int, branch_id: int | None = None) -> Branch:
        """The branch whose own steps hold ``step`` on the line of ``branch_id`` (the current one by
        default): the branch itself, or the ancestor it left from (ValueError past its head)."""
        b = self.branches[self.current if branch_id is None else branch_id]
        if step > b.head:
            raise ValueError(f"step {step} is past the end of branch {b.id} (its last step is {b.head})")
        while step < b.start and b.parent is not None:
            b = self.branches[b.parent]
        if step < b.start:
            raise ValueError(f"step {step} is before the timeline's first step, {b.start}")
        return b

    def seek(self, step: int, branch_id: int | None = None) -> None:
        """Put the run at ``step`` of the branch (as ``locate`` finds it): the keyframe before it,
        then the recorded steps replayed; the curves cut to that step."""
        b = self.locate(step, branch_id)
        base = max(s for s in b.keyframes if s <= step)
        run = self.run
        self._settings(b)
        restore(run, b.keyframes[base])
        with overflow_ignored():        # near a divergence the replayed steps overflow, as they did
            for k in range(base, step):
                run.forward(b.oneoff.get(k))
                run.backward(check=False)
                run.update(check=False)
                if (k + 1) % self.interval == 0 and k + 1 not in b.keyframes:
                    self._keep(b, k + 1)        # (a timeline rebuilt on import gets its keyframes back)
            run.stepper.verify_weights()
        self.current = b.id
        self._cut_history(b, step)

    def _settings(self, b: Branch) -> None:
        """The branch's optimizer (its state comes from the keyframe) and kernel penalties."""
        self.run.model.optimizer = optimizers.get(dict(b.optimizer))
        set_penalties(self.run.model, b.regularization)

    def _cut_history(self, b: Branch, step: int) -> None:
        run = self.run
        epochs = [logs for s, logs in b.epochs if s <= step]
        history = {k: [logs.get(k) for logs in epochs] for k in run.history if k != "batch_loss"}
        history["batch_loss"] = list(self._losses(b, self.loss_offset, step))
        run.history = history


def _thinned(first: int, losses: list, points: int) -> dict:
    """A branch's curve of at most ``points`` points: every k-th step's batch loss, and the last one."""
    every = max(1, -(-len(losses) // max(points, 2)))
    keep = list(range(0, len(losses), every))
    if losses and keep[-1] != len(losses) - 1:
        keep.append(len(losses) - 1)
    return {"steps_from": first, "every": every, "steps": [first + i for i in keep],
            "batch_loss": [losses[i] for i in keep]}


def layer_penalties(model) -> list:
    """Each Dense kernel's penalty rates {"l1", "l2"} (None without one), input to output."""
    return [penalty_spec(dense.kernel_regularizer) for dense in model.dense_layers]


def set_penalties(model, penalties: list) -> None:
    """Put ``layer_penalties``' list back on the model's kernels."""
    for dense, spec in zip(model.dense_layers, penalties):
        dense.kernel_regularizer = kernel_penalty(spec)

"""FastStep: ReferenceStep's numbers (engine/step.py), faster; engine/fast/__init__.py lists the tricks."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import divergence
from ..errors import Diverged
from ..layers import Dense, Layer
from ..optimizers import Optimizer
from ..step import mean_loss
from ..trace import LayerTrace, Phase, Trace
from .buffers import WorkArrays
from .packing import PackedSlots, PackedWeights, pack_slots, pack_weights, views_of
from .rules import Scratch, kept_rule
from .writes import WriteChoice, into_rule


@dataclass
class LayerStep:
    """What one Dense layer's part of a step reads, worked out once per packing instead of looked up
    at every step: its place, its weights' and gradients' views in the packed vectors, and the
    transposes the step and its trace use (engine/fast/__init__.py: the layer steps)."""

    number: int                                    # l: the layer holds W(l), b(l)
    dense: Dense
    rest: list[Layer]                              # the Activation/Dropout layers after it
    kernel: np.ndarray                             # K, a view of packed.weights
    kernel_t: np.ndarray                           # Kᵀ = W: the trace's W, and g = δ·Kᵀ
    bias: np.ndarray | None                        # b (None without a bias)
    d_kernel: np.ndarray                           # ∂cost/∂K, a view of packed.gradients
    dW: np.ndarray                                 # its transpose ∂cost/∂W, the trace's dW
    d_bias: np.ndarray | None                      # ∂cost/∂b
    first: bool                                    # the first Dense: it passes no gradient down


@dataclass
class LayerSteps:
    """Every Dense layer's LayerStep, for one plan and one packing of its weights."""

    plan: "Plan"
    packed: PackedWeights
    layers: list[LayerStep]                        # input to output
    downward: list[LayerStep]                      # output to input: backward's order
    dense_only: bool                               # no layer after any Dense (backward's own loop)

    @classmethod
    def make(cls, plan: "Plan", packed: PackedWeights) -> "LayerSteps":
        layers, position = [], 0
        for number, (dense, rest) in enumerate(plan.groups, start=1):
            kernel, bias = packed.params[position], packed.params[position + 1] if dense.use_bias else None
            d_kernel, d_bias = packed.grads[position], packed.grads[position + 1] if dense.use_bias else None
            layers.append(LayerStep(number, dense, rest, kernel, kernel.T, bias, d_kernel, d_kernel.T, d_bias,
                                    number == 1))
            position += len(dense.params())
        return cls(plan, packed, layers, layers[::-1], not any(rest for _, rest in plan.groups))


@dataclass
class Plan:
    """What FastStep works out once per layer list: the layers in the roles a step gives them."""

    layer_count: int                               # len(model.layers) it was made for
    leading: list[Layer]                           # before the first Dense (Flatten)
    groups: list[tuple[Dense, list[Layer]]]        # each Dense with the Activation/Dropout after it
    trained: list[Layer]                           # from the first Dense to the output
    dense_layers: list[Dense]
    work: WorkArrays                               # their work arrays, per batch size


class FastStep:
    """forward → backward → apply_gradients with ReferenceStep's numbers, bit for bit, for every
    training run (engine/runner.py: fit, the server, comparison runs, the range test).

    ``backward(check=False)`` and ``apply_gradients(check=False)`` defer the finiteness tests: a
    non-finite δ or gradient makes the updated weights non-finite, and those make the next z
    non-finite, so the next forward's test of z and ŷ (or ``verify_weights``) finds it and only then
    looks for where it first appeared.
    """

    def __init__(self, model):
        self.model = model
        self.plan: Plan | None = None
        self.packed: PackedWeights | None = None
        self.packed_slots: PackedSlots | None = None
        self.steps: LayerSteps | None = None
        self.scratch = Scratch()            # the kept rules' scratch vectors (rules.py)
        self.writes = WriteChoice()         # the new weights written in place or copied over (writes.py)
        self.unchecked = False              # an update no finiteness test has seen yet
        if model.built:
            self._packed(self._plan().dense_layers)

    # ----- what is worked out once -------------------------------------------------------------
    def _plan(self) -> Plan:
        model, plan = self.model, self.plan
        if plan is None or plan.layer_count != len(model.layers):
            dense_layers = model.dense_layers
            plan = self.plan = Plan(len(model.layers), model.leading_layers(), model.groups(),
                                    model.trained_layers(), dense_layers, WorkArrays(dense_layers))
        return plan

    def _packed(self, dense_layers) -> PackedWeights:
        """The weights in one flat vector (packed on first use, and again after a layer was added)."""
        packed = self.packed
        if packed is None or not packed.holds(dense_layers):
            packed = self.packed = pack_weights(dense_layers, self.model.dtype)
        return packed

    def _steps(self, placed: bool = False) -> LayerSteps:
        """Every Dense layer's LayerStep for the current layers and packing (made again when either
        changed); ``placed``: test first that the layers' weights are still the packed views (the
        forward does, so that a layer placed elsewhere since is packed again)."""
        plan, packed, steps = self._plan(), self.packed, self.steps
        if placed or packed is None:
            packed = self._packed(plan.dense_layers)
        if steps is None or steps.plan is not plan or steps.packed is not packed:
            steps = self.steps = LayerSteps.make(plan, packed)
        return steps

    # ----- forward ---------------------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = True) -> Trace:
        """ReferenceStep.forward into the work arrays; one finiteness test of every z and ŷ."""
        model, steps = self.model, self._steps(placed=True)
        plan = steps.plan
        a = x
        for layer in plan.leading:
            a = layer.forward(a, training)
        bufs = plan.work.get(a.shape[0])
        entries = []
        for step, buf in zip(steps.layers, bufs.layers):
            dense = step.dense
            act = dense.activation
            entry = LayerTrace(step.number, dense.name, act.name, step.kernel_t, step.bias, a)   # = LayerTrace.start
            dense.a_in = a
            z = dense.z = np.matmul(a, step.kernel, out=buf.z)                    # z = a·K
            if step.bias is not None:
                z += step.bias                                                    #   + b
            a = dense.a = act.forward(z, out=buf.a) if act.supports_out else act.forward(z)   # a = f(z)
            for layer in step.rest:
                a = layer.forward(a, training)
                entry.note(layer)
            entry.z, entry.a = z, a
            entries.append(entry)
        if not self._finite(bufs, a):
            if self.unchecked:
                self.verify_weights()
            divergence.check_forward(entries, model.step, model.epoch)
        elif a.shape[0]:
            self.unchecked = False                      # finite z: the last update's weights are finite
        trace = Trace(x=x, layers=entries, y_pred=a, training=training, step=model.step)
        model.trace, model.phase = trace, Phase.FORWARD
        return trace

    @staticmethod
    def _finite(bufs, y_pred) -> bool:
        """Whether this forward's z and ŷ are finite. A non-finite a(l) makes z(l+1) non-finite, and so
        do non-finite weights: every z and ŷ suffice. They are all in bufs.block, unless ŷ is another
        array (an Activation or Dropout after the last Dense, an f that does not write into ``out``)."""
        return divergence.block_finite(bufs.block) and (y_pred is bufs.layers[-1].a or divergence.finite(y_pred))

    def fill_loss(self, trace: Trace, y: np.ndarray, labels: np.ndarray | None = None) -> None:
        """ReferenceStep.fill_loss; ``labels`` (each one-hot row's class, from fit, for cross-entropy)
        takes the loss's cheaper per_sample_labels, with the same numbers."""
        model = self.model
        trace.y = y
        if labels is None:
            trace.per_sample_loss = model.loss.per_sample(y, trace.y_pred)
        else:
            trace.per_sample_loss = model.loss.per_sample_labels(labels, trace.y_pred)
        trace.loss = mean_loss(trace.per_sample_loss) + model.penalty()
        if not np.isfinite(trace.loss):
            raise Diverged("loss", None, model.step, model.epoch)

    # ----- backward --------------------------------------------------------------------------------
    def backward(self, check: bool = True) -> Trace:
        """ReferenceStep.backward into the work arrays and the flat gradient vector."""
        model, trace, steps = self.model, self.model.trace, self._steps()
        plan, entries = steps.plan, trace.layers
        bufs = plan.work.get(trace.batch_size).layers
        if model.fused():
            delta, g = model.loss.fused_delta(trace.y, trace.y_pred), None
        else:
            delta, g = None, model.loss.gradient(trace.y, trace.y_pred)
        if steps.dense_only:                            # plan.trained is the Dense layers alone
            for step in steps.downward:
                i = step.number - 1
                g = self._dense_backward(step, g, delta, bufs[i], entries[i])
                delta = None
        else:
            dense_index = len(steps.layers)
            for i in range(len(plan.trained) - 1, -1, -1):
                layer = plan.trained[i]
                if isinstance(layer, Dense):
                    dense_index -= 1
                    g = self._dense_backward(steps.layers[dense_index], g, delta, bufs[dense_index],
                                             entries[dense_index])
                else:
                    g = layer.backward(g, need_input_grad=i > 0, delta=delta)
                delta = None
        if check and not (divergence.finite(steps.packed.gradients)
                          and divergence.all_finite([d.delta for d in plan.dense_layers])):
            divergence.check_gradients(plan.dense_layers, model.step, model.epoch)
        trace.phase = model.phase = Phase.BACKWARD
        return trace

    @staticmethod
    def _dense_backward(step: LayerStep, g, delta, buf, entry):
        """Dense.backward into ``buf`` and the layer's gradient views (∂cost/∂K, ∂cost/∂b); its trace
        ``entry`` gets δ, ∂cost/∂W and ∂cost/∂b."""
        dense = step.dense
        if delta is None:
            act = dense.activation
            delta = act.backward(dense.z, dense.a, g, out=buf.delta) if act.supports_out else \
                act.backward(dense.z, dense.a, g)                                 # δ = g ⊙ f′(z)
        dense.delta = delta
        mean = np.divide(delta, delta.shape[0], out=buf.delta_mean)               # δ / batch
        d_kernel = dense.d_kernel = np.matmul(dense.a_in.T, mean, out=step.d_kernel)   # ∂cost/∂K = aᵀ·δ / batch
        if dense.kernel_regularizer is not None:
            penalty = dense.kernel_regularizer.gradient(dense.kernel)
            d_kernel += penalty
        if step.d_bias is not None:
            d_bias = dense.d_bias = np.add.reduce(mean, axis=0, out=step.d_bias)  # ∂cost/∂b = mean of δ
            if dense.bias_regularizer is not None:
                penalty = dense.bias_regularizer.gradient(dense.bias)
                d_bias += penalty
        entry.delta, entry.dW, entry.db = delta, step.dW, dense.d_bias
        if step.first:
            return None
        return np.matmul(delta, step.kernel_t, out=buf.grad_in)                   # g passed down = δ·Kᵀ

    # ----- the update ------------------------------------------------------------------------------
    def apply_gradients(self, return_deltas: bool = True, check: bool = True) -> Trace:
        """ReferenceStep.apply_gradients as one update of the flat vectors."""
        model = self.model
        trace, optimizer = model.trace, model.optimizer
        packed = self.packed or self._packed(self._plan().dense_layers)
        rate = trace.learning_rate = optimizer.current_learning_rate()
        optimizer.prepare(packed.params, packed.grads)
        if type(optimizer).apply is not Optimizer.apply:       # an apply of its own: let it run
            deltas = optimizer.apply(packed.params, packed.grads, return_deltas=return_deltas)
        else:
            deltas = self._update_flat(optimizer, packed, rate, return_deltas)
        model.step += 1
        model.phase, trace.phase = Phase.READY, Phase.UPDATED
        if return_deltas:
            trace.fill_updates(self._plan().dense_layers, deltas, optimizer.slots())
        self.unchecked = True
        if check:
            self.verify_weights()
        return trace

    _kept_rule = staticmethod(kept_rule)    # the optimizer's rule written into kept scratch vectors, or None

    def _update_flat(self, optimizer, packed: PackedWeights, rate: float, return_deltas: bool):
        """The optimizer's ``update`` once at learning rate ``rate``, on the flat weights, gradients
        and slots: in place, or the new weights into scratch and copied over, as the write choice
        has it (writes.py; the same numbers either way)."""
        slots = self.packed_slots
        if slots is None or not slots.holds(optimizer):
            slots = self.packed_slots = pack_slots(optimizer, [p.shape for p in packed.params])
        before = packed.weights.copy() if return_deltas else None
        copy, timed = self.writes.next()
        start = self.writes.clock() if timed else 0.0
        w, g = packed.weights, packed.gradients
        if copy:                            # the new weights into scratch, then one copy (writes.py)
            np.copyto(w, into_rule(optimizer)(optimizer, w, g, slots.flat, rate, self.scratch))
        else:
            rule = self._kept_rule(optimizer)
            if rule is None:
                optimizer.update(w, g, slots.flat, rate)
            else:                           # the same rule without its temporaries (Adam: rules.py)
                rule(optimizer, w, g, slots.flat, rate, self.scratch)
        if timed:
            self.writes.record(copy, self.writes.clock() - start)
        optimizer.iterations += 1
        if not return_deltas:
            return None
        return views_of(np.subtract(packed.weights, before, out=before), [p.shape for p in packed.params])

    def verify_weights(self) -> None:
        """Raise Diverged if the last update left a weight non-finite, naming the gradient or weight
        where the non-finite value first appeared (nothing to do when it was tested)."""
        if not self.unchecked:
            return
        model, dense_layers = self.model, self._plan().dense_layers
        if self.packed is None or divergence.finite(self.packed.weights):
            self.unchecked = False
            return
        divergence.check_gradients(dense_layers, model.step - 1, model.epoch)
        divergence.check_weights(dense_layers, model.step, model.epoch)

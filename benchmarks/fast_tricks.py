"""What each trick of engine/fast saves: interleaved A/B timings of fit's epoch without it.

``python -m benchmarks.fast_tricks [--steps 100] [--batches 32,128] [--rounds 41] [--act sigmoid]``

Every variant trains its own 784-128-64-10 model (SGD 0.01 or --opt, categorical cross-entropy, accuracy)
on the first steps × batch MNIST training rows, one short epoch at a time. After a warm-up, each
round times every variant next to "all tricks" (fit itself), A B in even rounds and B A in odd
ones. A variant's cost is its fastest epoch against the fastest of "all tricks" (the fastest of
many short runs is the least disturbed on a shared machine), with the median of the adjacent
pairs' ratios beside it. One BLAS thread, times in the process's CPU time (see clock); with
``OPENBLAS_NUM_THREADS=2`` set before it, two BLAS threads and wall time.

Variants: fit with every trick, then fit without one of them —
  work arrays      fresh z, a, δ, δ/batch, g arrays at every step (as ReferenceStep allocates them)
  one-block z test every z and ŷ tested one by one (not as one block)
  packed update    the update and the weights' finiteness test array by array
  kept Adam scratch  Adam's rule as Adam.update writes it, its temporaries made afresh (--opt adam)
  layer steps      each step looks up the layers' views, roles and placement (FastStep before LayerStep)
  deferred tests   δ, the gradients and the new weights tested at every step
  batched meter    each step's loss computed (labels path) and added to an EpochMeter
  write choice     the new weights always written in place / always copied over (writes.py)
  all of them      the same Run on the ReferenceStep
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import operator  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.common import load_mnist  # noqa: E402
from engine import SGD, Dense, Sequential, divergence, optimizers  # noqa: E402
from engine.fast import FastStep  # noqa: E402
from engine.fast.buffers import BatchBuffers, WorkArrays  # noqa: E402
from engine.fast.packing import pack_weights  # noqa: E402
from engine.runner import Run  # noqa: E402
from engine.trace import LayerTrace, Phase, Trace  # noqa: E402

# CPU time of this process, not wall time: on a shared machine an epoch's wall time includes the
# time other processes held the core, which swamps differences of a few per cent (one BLAS thread,
# so the process's CPU time is the work done; cache and memory contention still show). With more
# BLAS threads the CPU time counts their waiting too: wall time then.
THREADS = int(os.environ["OPENBLAS_NUM_THREADS"])
clock = time.process_time if THREADS == 1 else time.perf_counter


class FreshArrays(WorkArrays):
    """Without the work arrays: new ones for every step."""

    def get(self, n):
        return BatchBuffers.make(n, self.dense_layers)


class NoBlockTest(FastStep):
    """Without the block: one finiteness test per z and for ŷ."""

    @staticmethod
    def _finite(bufs, y_pred):
        return divergence.all_finite([b.z for b in bufs.layers] + [y_pred])


class NoWorkArrays(FastStep):
    def _plan(self):
        plan = super()._plan()
        if type(plan.work) is not FreshArrays:
            plan.work = FreshArrays(plan.dense_layers)
        return plan


class NoPackedUpdate(FastStep):
    """Without the packed update: one optimizer call and one finiteness test per array."""

    def apply_gradients(self, return_deltas=True, check=True):
        model, packed, opt = self.model, self.packed, self.model.optimizer
        model.trace.learning_rate = opt.current_learning_rate()
        opt.apply(packed.params, packed.grads)
        model.step += 1
        model.phase, model.trace.phase = Phase.READY, Phase.UPDATED
        self.unchecked = True
        return model.trace

    def verify_weights(self):
        if self.unchecked and all(divergence.finite(p) for p in self.packed.params):
            self.unchecked = False
        super().verify_weights()


class NoKeptRule(FastStep):
    """Adam's update as engine/optimizers/adam.py writes it (its temporaries made afresh at every step)."""

    _kept_rule = staticmethod(lambda optimizer: None)


class NoLayerSteps(FastStep):
    """Without the layer steps: the phases as FastStep wrote them before (engine/fast/step.py
    LayerStep), looking up at every step each layer's role, its views and transposes (LayerTrace.start,
    dense.W, dense.dW, K.T), each packed weight's identity, the learning rate twice."""

    def _placed(self, dense_layers):
        params = [p for dense in dense_layers for p in dense.params()]
        if self.packed is None or not (len(params) == len(self.packed.params)
                                       and all(map(operator.is_, params, self.packed.params))):
            self.packed = pack_weights(dense_layers, self.model.dtype)
        return self.packed

    def forward(self, x, training=True):
        model, plan = self.model, self._plan()
        self._placed(plan.dense_layers)
        a = x
        for layer in plan.leading:
            a = layer.forward(a, training)
        bufs = plan.work.get(a.shape[0])
        entries = []
        for number, (dense, rest), buf in zip(range(1, len(bufs.layers) + 1), plan.groups, bufs.layers):
            entry = LayerTrace.start(number, dense, a)
            dense.a_in = a
            z = dense.z = np.matmul(a, dense.kernel, out=buf.z)
            if dense.use_bias:
                z += dense.bias
            act = dense.activation
            a = dense.a = act.forward(z, out=buf.a) if act.supports_out else act.forward(z)
            for layer in rest:
                a = layer.forward(a, training)
                entry.note(layer)
            entry.z, entry.a = z, a
            entries.append(entry)
        if not self._finite(bufs, a):
            if self.unchecked:
                self.verify_weights()
            divergence.check_forward(entries, model.step, model.epoch)
        elif a.shape[0]:
            self.unchecked = False
        trace = Trace(x=x, layers=entries, y_pred=a, training=training, step=model.step)
        model.trace, model.phase = trace, Phase.FORWARD
        return trace

    def backward(self, check=True):
        model, plan = self.model, self._plan()
        trace, packed = model.trace, self.packed or self._placed(plan.dense_layers)
        bufs = plan.work.get(trace.batch_size).layers
        if model.fused():
            delta, g = model.loss.fused_delta(trace.y, trace.y_pred), None
        else:
            delta, g = None, model.loss.gradient(trace.y, trace.y_pred)
        position, dense_index = len(packed.grads), len(plan.dense_layers)
        for i in range(len(plan.trained) - 1, -1, -1):
            layer = plan.trained[i]
            if isinstance(layer, Dense):
                dense_index -= 1
                position -= len(layer.params())
                g = self._old_dense_backward(layer, g, delta, bufs[dense_index], packed.grads[position:], i > 0)
            else:
                g = layer.backward(g, need_input_grad=i > 0, delta=delta)
            delta = None
        for entry, dense in zip(trace.layers, plan.dense_layers):
            entry.delta, entry.dW, entry.db = dense.delta, dense.dW, dense.d_bias
        if check and not (divergence.finite(packed.gradients)
                          and divergence.all_finite([d.delta for d in plan.dense_layers])):
            divergence.check_gradients(plan.dense_layers, model.step, model.epoch)
        trace.phase = model.phase = Phase.BACKWARD
        return trace

    @staticmethod
    def _old_dense_backward(dense, g, delta, buf, grads, need_input_grad):
        act = dense.activation
        if delta is None:
            delta = act.backward(dense.z, dense.a, g, out=buf.delta) if act.supports_out else \
                act.backward(dense.z, dense.a, g)
        dense.delta = delta
        n = delta.shape[0]
        mean = np.divide(delta, n, out=buf.delta_mean)
        d_kernel = dense.d_kernel = np.matmul(dense.a_in.T, mean, out=grads[0])
        if dense.kernel_regularizer is not None:
            d_kernel += dense.kernel_regularizer.gradient(dense.kernel)
        if dense.use_bias:
            d_bias = dense.d_bias = np.add.reduce(mean, axis=0, out=grads[1])
            if dense.bias_regularizer is not None:
                d_bias += dense.bias_regularizer.gradient(dense.bias)
        if not need_input_grad:
            return None
        return np.matmul(delta, dense.kernel.T, out=buf.grad_in)

    def apply_gradients(self, return_deltas=True, check=True):
        model, plan = self.model, self._plan()
        trace, packed, optimizer = model.trace, self.packed or self._placed(plan.dense_layers), model.optimizer
        trace.learning_rate = optimizer.current_learning_rate()
        optimizer.prepare(packed.params, packed.grads)
        deltas = self._update_flat(optimizer, packed, None, return_deltas)
        model.step += 1
        model.phase, trace.phase = Phase.READY, Phase.UPDATED
        if return_deltas:
            trace.fill_updates(plan.dense_layers, deltas, optimizer.slots())
        self.unchecked = True
        if check:
            self.verify_weights()
        return trace

    def _update_flat(self, optimizer, packed, rate, return_deltas):
        return super()._update_flat(optimizer, packed, optimizer.current_learning_rate(), return_deltas)


class NoDeferredTests(FastStep):
    def backward(self, check=True):
        return super().backward(check=True)

    def apply_gradients(self, return_deltas=True, check=True):
        return super().apply_gradients(return_deltas=return_deltas, check=True)


class InPlaceWrites(FastStep):
    """The new weights always written over the old ones (no WriteChoice)."""

    def __init__(self, model):
        super().__init__(model)
        self.writes.pin(False)


class CopiedWrites(FastStep):
    """The new weights always written into scratch and copied over (no WriteChoice)."""

    def __init__(self, model):
        super().__init__(model)
        self.writes.pin(True)


def model(act, opt="sgd"):
    m = Sequential(seed=0)
    m.add(Dense(128, activation=act, input_dim=784))
    m.add(Dense(64, activation=act))
    m.add(Dense(10, activation="softmax"))
    m.compile(loss="categorical_crossentropy", optimizer=SGD(0.01) if opt == "sgd" else optimizers.get(opt),
              metrics=["acc"])
    return m


def fast_epoch(step_class, stored=True):
    """One epoch as fit runs it (engine.runner.Run), on a FastStep of ``step_class`` (made once per model)."""
    def run(m, x, y, batch):
        step = m.__dict__.setdefault("bench_step", step_class(m))
        epoch = Run(m, x, y, batch, batch_losses=not stored, stepper=step)
        start = clock()
        epoch.run_epoch()
        return clock() - start
    return run


def reference_epoch(m, x, y, batch):
    """One epoch of the same Run on the model's ReferenceStep (every array new, every test at once)."""
    epoch = Run(m, x, y, batch, stepper=m.stepper)
    start = clock()
    epoch.run_epoch()
    return clock() - start


VARIANTS = {
    "all tricks (fit)": fast_epoch(FastStep),
    "without work arrays": fast_epoch(NoWorkArrays),
    "without one-block z test": fast_epoch(NoBlockTest),
    "without packed update": fast_epoch(NoPackedUpdate),
    "without kept Adam scratch": fast_epoch(NoKeptRule),
    "without layer steps": fast_epoch(NoLayerSteps),
    "without deferred tests": fast_epoch(NoDeferredTests),
    "without batched meter": fast_epoch(FastStep, stored=False),
    "write choice: always in place": fast_epoch(InPlaceWrites),
    "write choice: always copied": fast_epoch(CopiedWrites),
    "without any (ReferenceStep)": reference_epoch,
}


def gather_us(x, batch, reps=2000):
    """x.take(rows, axis=0) against x[rows] for one batch, µs each (medians of 5)."""
    rng = np.random.default_rng(0)
    rows = [rng.permutation(x.shape[0])[:batch] for _ in range(reps)]
    out = {}
    for name, fn in (("take", lambda r: x.take(r, axis=0)), ("x[rows]", lambda r: x[r])):
        times = []
        for _ in range(5):
            start = clock()
            for r in rows:
                fn(r)
            times.append((clock() - start) / reps * 1e6)
        out[name] = statistics.median(times)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=100, help="steps per timed epoch (rows = steps × batch)")
    p.add_argument("--batches", default="32,128")
    p.add_argument("--rounds", type=int, default=41)
    p.add_argument("--act", default="sigmoid")
    p.add_argument("--opt", default="sgd", help="sgd (0.01), or another optimizer's name with its defaults")
    p.add_argument("--only", default="", help="comma-separated variant names (substrings) to time")
    args = p.parse_args(argv)
    names = [n for n in VARIANTS if not args.only or n == "all tricks (fit)"
             or any(s.strip() and s.strip() in n for s in args.only.split(","))]
    base = names[0]
    print(f"{args.act}, {args.opt}; {THREADS} BLAS thread(s), {clock.__name__}; {args.steps} steps per timed epoch; "
          f"load average {os.getloadavg()}",
          file=sys.stderr)
    for batch in (int(b) for b in args.batches.split(",")):
        x, y, _, _, source = load_mnist(args.steps * batch)
        y1h = np.eye(10, dtype=np.float32)[y]
        models = {name: model(args.act, args.opt) for name in names}
        for name in names:                                   # warm-up
            VARIANTS[name](models[name], x, y1h, batch)
        times = {name: [] for name in names}
        ratios = {name: [] for name in names[1:]}
        for r in range(args.rounds):
            for name in names[1:]:                           # A B, then B A in the next round
                pair = (base, name) if r % 2 == 0 else (name, base)
                got = {n: VARIANTS[n](models[n], x, y1h, batch) / args.steps * 1e6 for n in pair}
                for n, t in got.items():
                    times[n].append(t)
                ratios[name].append(got[name] / got[base])
        fastest = min(times[base])
        kind = "CPU" if THREADS == 1 else "wall"
        print(f"\nbatch {batch} ({source}): {kind} µs per step, fastest of {len(times[base])} epochs of "
              f"{args.steps} steps (median); the cost of going without, from the fastest epochs, and the "
              f"median of {args.rounds} adjacent A/B pairs; × {-(-60000 // batch)} steps per MNIST epoch")
        print(f"  {base:28s} {fastest:7.1f} µs ({statistics.median(times[base]):.1f})")
        for name in names[1:]:
            low, ratio = min(times[name]), statistics.median(ratios[name])
            print(f"  {name:28s} {low:7.1f} µs ({statistics.median(times[name]):.1f})  "
                  f"{(low / fastest - 1) * 100:+6.1f} % ({(low - fastest) * -(-60000 // batch) / 1000:+5.0f} ms "
                  f"per MNIST epoch); pairs: median {(ratio - 1) * 100:+.1f} %")
        g = gather_us(x, batch)
        print(f"  gather of one batch: take {g['take']:.1f} µs, x[rows] {g['x[rows]']:.1f} µs "
              f"(× {-(-60000 // batch)} batches: {(g['x[rows]'] - g['take']) * -(-60000 // batch) / 1000:+.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

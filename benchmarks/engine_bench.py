"""Worker for sections 1-2: engine vs PyTorch epochs on MNIST, and time to 97.5 % test accuracy.

Run by benchmarks/run.py in a fresh process whose BLAS thread variables were set before NumPy
loaded: ``python -m benchmarks.engine_bench --threads 1 --out result.json [--quick]``.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time

import numpy as np

from benchmarks.common import ROOT, blas_info, load_mnist, median

HIDDEN = (128, 64)


# ----- the engine ---------------------------------------------------------------------------
def engine_model(act: str, opt: str, seed: int = 0):
    from engine import SGD, Adam, Dense, Sequential
    m = Sequential(seed=seed)
    m.add(Dense(HIDDEN[0], activation=act, input_dim=784))
    m.add(Dense(HIDDEN[1], activation=act))
    m.add(Dense(10, activation="softmax"))
    m.compile(loss="categorical_crossentropy", optimizer=SGD(0.01) if opt == "sgd" else Adam(0.001),
              metrics=["acc"])
    return m


def engine_epoch(model, x, y1h, batch):
    start = time.perf_counter()
    model.fit(x, y1h, epochs=1, batch_size=batch, verbose=0, shuffle=True)
    return time.perf_counter() - start


# ----- PyTorch --------------------------------------------------------------------------------
def torch_model(act: str, opt: str, seed: int = 0):
    import torch
    torch.manual_seed(seed)
    f = torch.nn.Sigmoid if act == "sigmoid" else torch.nn.ReLU
    net = torch.nn.Sequential(torch.nn.Linear(784, HIDDEN[0]), f(), torch.nn.Linear(HIDDEN[0], HIDDEN[1]), f(),
                              torch.nn.Linear(HIDDEN[1], 10))
    o = torch.optim.SGD(net.parameters(), lr=0.01) if opt == "sgd" else torch.optim.Adam(net.parameters(), lr=0.001)
    return net, o


def torch_epoch(model, xt, yt, batch):
    """The usual PyTorch loop: shuffled batches, cross-entropy on logits, loss.item() per batch."""
    import torch
    net, opt = model
    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    perm = torch.randperm(xt.shape[0])
    total = 0.0
    for s in range(0, xt.shape[0], batch):
        idx = perm[s:s + batch]
        opt.zero_grad()
        loss = loss_fn(net(xt[idx]), yt[idx])
        loss.backward()
        opt.step()
        total += loss.item()
    return time.perf_counter() - start


# ----- the engine's matrix products alone, and the same maths without the engine ---------------
def matmul_epoch(x, batch, act="sigmoid"):
    """The 8 products of one step (3 forward, 3 weight gradients, 2 input gradients) per batch."""
    rng = np.random.default_rng(0)
    ks = [rng.standard_normal((a, b), dtype=np.float32) * 0.05 for a, b in ((784, 128), (128, 64), (64, 10))]
    bufs = {}
    start = time.perf_counter()
    for s in range(0, x.shape[0], batch):
        xb = x[s:s + batch]
        n = xb.shape[0]
        b = bufs.get(n)
        if b is None:
            b = bufs[n] = [np.empty((n, k.shape[1]), np.float32) for k in ks] + \
                [np.empty((n, k.shape[0]), np.float32) for k in ks[1:]] + [np.empty_like(k) for k in ks]
        z1, z2, z3, g1, g2, d1, d2, d3 = b
        np.matmul(xb, ks[0], out=z1)
        np.matmul(z1, ks[1], out=z2)
        np.matmul(z2, ks[2], out=z3)
        np.matmul(z3, ks[2].T, out=g2)
        np.matmul(z2, ks[1].T, out=g1)
        np.matmul(z2.T, z3, out=d3)
        np.matmul(z1.T, z2, out=d2)
        np.matmul(xb.T, z1, out=d1)
    return time.perf_counter() - start


def bare_epoch(x, y1h, batch, act, rng):
    """fit's NumPy calls as one plain function: the same shuffle, products, activations, flat
    SGD update (W ← W − lr·∂cost/∂W with lr 0.01, as SGD.update writes it) and stored ŷ
    (loss and accuracy worked out once at the end), on the same kind of buffers, but no trace,
    no finiteness tests, no layers or model objects.
    engine / bare − 1 is therefore what the engine's bookkeeping costs (trace included)."""
    with np.errstate(over="ignore"):                          # as fit's overflow_ignored()
        return _bare_epoch(x, y1h, batch, act, rng)


def _bare_epoch(x, y1h, batch, act, rng):
    r = np.random.default_rng(0)
    shapes = ((784, HIDDEN[0]), (HIDDEN[0], HIDDEN[1]), (HIDDEN[1], 10))
    sizes = [a * b + b for a, b in shapes]
    flat, grad = np.empty(sum(sizes), np.float32), np.empty(sum(sizes), np.float32)
    ks, dks, offset = [], [], 0
    for (a, b) in shapes:                                  # K then b, layer after layer, as the engine
        k, bias = flat[offset:offset + a * b].reshape(a, b), flat[offset + a * b:offset + a * b + b]
        k[...] = r.standard_normal((a, b), dtype=np.float32) * 0.05
        bias[...] = 0.0
        ks.append((k, bias))
        dks.append((grad[offset:offset + a * b].reshape(a, b), grad[offset + a * b:offset + a * b + b]))
        offset += a * b + b
    bufs = {}
    lr = np.float32(0.01)
    stored, stored_rows, pos = np.empty((x.shape[0], 10), np.float32), np.empty(x.shape[0], np.int64), 0
    start = time.perf_counter()
    order = rng.permutation(x.shape[0])
    for s in range(0, x.shape[0], batch):
        rows = order[s:s + batch]
        xb, yb = x.take(rows, axis=0), y1h.take(rows, axis=0)   # as fit
        n = xb.shape[0]
        b = bufs.get(n)
        if b is None:
            b = bufs[n] = {key: [np.empty((n, k.shape[1]), np.float32) for k, _ in ks] for key in ("z", "a", "d", "m")}
            b["g"] = [np.empty((n, k.shape[0]), np.float32) for k, _ in ks]
        a = xb
        for i, (k, bias) in enumerate(ks):
            z = np.matmul(a, k, out=b["z"][i])
            z += bias
            out = b["a"][i]
            if i == 2:                                       # as engine.activations.Softmax
                e = np.subtract(z, z.max(axis=-1, keepdims=True), out=out)
                np.exp(e, out=e)
                e /= e.sum(axis=-1, keepdims=True)
            elif act == "sigmoid":                           # as engine.activations.Sigmoid
                np.negative(z, out=out)
                np.exp(out, out=out)
                out += 1.0
                np.reciprocal(out, out=out)
            else:
                np.maximum(z, 0.0, dtype=z.dtype, out=out)
            a = out
        stored[pos:pos + n] = a                              # as engine.fast.meters.LabelMeter.add
        stored_rows[pos:pos + n] = rows
        pos += n
        delta = np.subtract(a, yb, dtype=a.dtype)            # softmax + cross-entropy: ŷ − y
        for i in (2, 1, 0):
            a_in = xb if i == 0 else b["a"][i - 1]
            mean = np.divide(delta, np.float32(n), out=b["m"][i])   # δ/batch
            np.matmul(a_in.T, mean, out=dks[i][0])
            np.add.reduce(mean, axis=0, dtype=np.float32, out=dks[i][1])
            if i:
                g = np.matmul(delta, ks[i][0].T, out=b["g"][i])
                prev = b["a"][i - 1]
                if act == "sigmoid":
                    d = np.subtract(1.0, prev, dtype=prev.dtype, out=b["d"][i - 1])
                    d *= prev
                    d *= g
                else:
                    d = np.multiply(g, b["z"][i - 1] > 0, dtype=g.dtype, out=b["d"][i - 1])
                delta = d
        flat -= lr * grad                                    # W ← W − lr·∂cost/∂W
    labels = np.argmax(y1h[stored_rows], axis=-1)            # the epoch's loss and accuracy, once
    q = np.clip(stored[np.arange(x.shape[0]), labels] / stored.sum(axis=-1), 1e-7, 1 - 1e-7)
    float(np.mean(-np.log(q)))
    float(np.mean(np.argmax(stored, axis=-1) == labels))
    return time.perf_counter() - start


def trace_recording_s(model, x, y1h, batch, steps):
    """What recording the trace costs in an epoch of ``steps`` steps: the trace's own work in one
    step (engine.fast.FastStep, as engine.step.ReferenceStep: a LayerTrace per layer holding
    references to W, b, a, z, then δ, ∂cost/∂W, ∂cost/∂b; the Trace around them; no copies), done
    ``steps`` times on the model's real arrays."""
    from engine.trace import LayerTrace, Phase, Trace
    trace = model.forward(x[:batch], y1h[:batch])
    model.backward()
    model.apply_gradients(return_deltas=False)
    dense_layers = model.dense_layers
    start = time.perf_counter()
    for _ in range(steps):
        entries = []
        a_in = trace.x
        for number, dense in enumerate(dense_layers, start=1):               # as FastStep.forward
            entry = LayerTrace.start(number, dense, a_in)
            entry.z = dense.z
            entry.a = a_in = dense.a
            entries.append(entry)
        t = Trace(x=trace.x, layers=entries, y_pred=a_in, training=True, step=model.step)
        for entry, dense in zip(t.layers, dense_layers):                    # as FastStep.backward
            entry.delta, entry.dW, entry.db = dense.delta, dense.dW, dense.d_bias
        t.phase = Phase.BACKWARD
        t.learning_rate = model.optimizer.current_learning_rate()          # as apply_gradients
        t.phase = Phase.UPDATED
    return time.perf_counter() - start


# ----- section 1 ---------------------------------------------------------------------------------
def section_engine(x, y, threads, quick, reps, with_torch):
    from engine.utils import to_categorical
    y1h = to_categorical(y, 10).astype(np.float32)
    torch = None
    if with_torch:
        try:
            import torch
            torch.set_num_threads(threads)
        except ImportError:
            torch = None
    xt = yt = None
    if torch is not None:
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    batches = (32, 128) if quick else (32, 128, 512)
    combos = [(a, o) for o in ("sgd", "adam") for a in ("sigmoid", "relu")]
    if quick:
        combos = [(a, "sgd") for a in ("sigmoid", "relu")]
    rows = []
    for act, opt in combos:
        for batch in batches:
            em = engine_model(act, opt)
            tm = torch_model(act, opt) if torch is not None else None
            engine_epoch(em, x[:4096], y1h[:4096], batch)                    # warm-up
            if tm is not None:
                torch_epoch(tm, xt[:4096], yt[:4096], batch)
            e_times, t_times, m_times, b_times, r_times = [], [], [], [], []
            rng = np.random.default_rng(1)
            # SGD rows carry the targets: at least 5 pairs for their medians (the host is shared)
            for _ in range(reps if opt == "adam" or quick else max(reps, 5)):  # A B A B ...
                e_times.append(engine_epoch(em, x, y1h, batch))
                if tm is not None:
                    t_times.append(torch_epoch(tm, xt, yt, batch))
                if opt == "sgd":
                    m_times.append(matmul_epoch(x, batch))
                    b_times.append(bare_epoch(x, y1h, batch, act, rng))
                    r_times.append(trace_recording_s(em, x, y1h, batch, -(-x.shape[0] // batch)))
            row = {"activation": act, "optimizer": opt, "batch": batch, "threads": threads,
                   "engine_s": median(e_times), "torch_s": median(t_times),
                   "matmul_s": median(m_times), "bare_numpy_s": median(b_times), "trace_s": median(r_times),
                   "engine_runs": e_times, "torch_runs": t_times}
            row["engine_over_torch"] = row["engine_s"] / row["torch_s"] if row["torch_s"] else None
            row["engine_over_matmul"] = row["engine_s"] / row["matmul_s"] if row["matmul_s"] else None
            row["engine_over_bare"] = row["engine_s"] / row["bare_numpy_s"] if row["bare_numpy_s"] else None
            row["trace_share"] = row["trace_s"] / row["engine_s"] if row["trace_s"] is not None else None
            rows.append(row)
            print(f"  [{threads}t] {act:7s} {opt:4s} b{batch:<4d} engine {row['engine_s']:.3f}s"
                  + (f"  torch {row['torch_s']:.3f}s" if row["torch_s"] else "  torch skipped"),
                  file=sys.stderr, flush=True)
    return {"rows": rows, "torch": getattr(torch, "__version__", None),
            "torch_skipped_reason": None if torch is not None else "PyTorch not installed (pip install torch)"}


# ----- section 2 ----------------------------------------------------------------------------------
def section_accuracy(x, y, xte, yte, max_epochs=15, target=0.975):
    """The example script's network and settings (examples/mnist_mlp.py), epoch by epoch until the
    test accuracy reaches ``target``; wall time of training only (the test evaluations excluded)."""
    spec = importlib.util.spec_from_file_location("mnist_mlp_example", ROOT / "examples" / "mnist_mlp.py")
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    from engine.utils import to_categorical
    y1h, yte1h = to_categorical(y, 10).astype(np.float32), to_categorical(yte, 10).astype(np.float32)
    model = ex.build_model()
    train_s, accs = 0.0, []
    for epoch in range(max_epochs):
        start = time.perf_counter()
        model.fit(x, y1h, epochs=epoch + 1, initial_epoch=epoch, batch_size=ex.BATCH_SIZE,
                  validation_split=ex.VALIDATION_SPLIT, verbose=0)
        train_s += time.perf_counter() - start
        _, acc = model.evaluate(xte, yte1h)
        accs.append(float(acc))
        if acc >= target:
            break
    reached = accs[-1] >= target
    return {"target": target, "reached": reached, "epochs": len(accs), "train_wall_s": train_s,
            "test_accuracy_per_epoch": accs, "batch": ex.BATCH_SIZE, "validation_split": ex.VALIDATION_SPLIT}


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--reps", type=int, default=None)
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--accuracy", action="store_true", help="also run section 2")
    args = p.parse_args(argv)
    x, y, xte, yte, source = load_mnist()
    if args.quick:                  # a third of the epoch, scaled back to 60,000 rows below
        x, y = x[:20000], y[:20000]
    reps = args.reps or (3 if args.quick else 3)
    result = {"threads": args.threads, "data": source, "rows_timed": int(x.shape[0]),
              "blas": blas_info(), "engine": section_engine(x, y, args.threads, args.quick, reps, not args.no_torch)}
    if args.quick:
        scale = 60000 / x.shape[0]
        for row in result["engine"]["rows"]:
            for key in ("engine_s", "torch_s", "matmul_s", "bare_numpy_s", "trace_s"):
                if row[key] is not None:
                    row[key] *= scale
        result["scaled_to_60000_rows"] = scale
    if args.accuracy:
        x, y, xte, yte, _ = load_mnist()
        result["accuracy"] = section_accuracy(x, y, xte, yte)
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

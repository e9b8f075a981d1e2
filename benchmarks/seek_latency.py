"""How long going back in time takes: POST .../seek answered in-process (the replay from the keyframe
before the step, the frame, its JSON), for the default network and for MNIST 784-128-64-10.

Not a test: ``python3 benchmarks/seek_latency.py [steps]`` trains ``steps`` steps (default 2000), then
seeks to 200 random earlier steps and prints p50 / p90 / max in ms, with the keyframe interval and the
memory the keyframes take. One BLAS thread, as ``backprop-lab serve`` runs. MNIST comes from
../shared/data/mnist ($BACKPROP_LAB_DATA); without it only the default network is measured.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import travel  # noqa: E402
from app.frames import render  # noqa: E402
from app.main import create_app  # noqa: E402
from app.responses import dumps  # noqa: E402
from app.schemas import DEFAULT_SESSION, SessionCreate  # noqa: E402
from benchmarks.common import SHARED_MNIST  # noqa: E402

MNIST = {**DEFAULT_SESSION, "dataset": {"name": "mnist"}, "batch_size": 32,
         "layers": [{"units": 128, "activation": "relu"}, {"units": 64, "activation": "relu"},
                    {"units": 10, "activation": "softmax"}]}


def measure(name: str, config: dict, steps: int, seeks: int = 200) -> None:
    store = create_app().state.store
    session = store.build(SessionCreate(**config))
    for _ in range(steps):
        session.step_quiet()
    rng = np.random.default_rng(0)
    times = []
    for k in rng.integers(1, steps + 1, seeks):
        start = time.perf_counter()
        dumps(render(travel.seek(session, int(k)), budget=48_000_000))
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    tl = session.timeline
    print(f"{name}: {steps} steps, {seeks} seeks: p50 {times[len(times) // 2]:.1f} ms, "
          f"p90 {times[int(0.9 * len(times))]:.1f} ms, max {times[-1]:.1f} ms; keyframes every "
          f"{tl.interval} steps, {tl.nbytes() / 1e6:.1f} MB")


if __name__ == "__main__":
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    measure("default network (xor 2-8-8-2)", DEFAULT_SESSION, steps)
    if SHARED_MNIST.is_dir() or os.environ.get("BACKPROP_LAB_DATA"):
        if not os.environ.get("BACKPROP_LAB_DATA"):
            os.environ["BACKPROP_LAB_DATA"] = str(SHARED_MNIST)
        measure("MNIST 784-128-64-10, batch 32", MNIST, steps)

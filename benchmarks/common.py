"""Helpers shared by the benchmark workers: thread settings, data, timing."""
from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
CORETYPE_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def child_env(threads: int | None, keep_coretype: bool = False) -> dict:
    """The environment of a worker: BLAS threads fixed before NumPy loads; OPENBLAS_CORETYPE and
    OPENBLAS_L2_SIZE removed together (they force a slower kernel on a current NumPy) unless kept."""
    env = dict(os.environ)
    if threads is not None:
        for var in THREAD_VARS:
            env[var] = str(threads)
    if not keep_coretype:
        for var in CORETYPE_VARS:
            env.pop(var, None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def blas_info() -> dict:
    """Which BLAS, kernel (architecture) and thread count NumPy runs with (threadpoolctl if present)."""
    info = {"coretype_env": {v: os.environ.get(v) for v in CORETYPE_VARS}}
    try:
        from threadpoolctl import threadpool_info
        libs = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if libs:
            lib = libs[0]
            info.update(internal_api=lib.get("internal_api"), architecture=lib.get("architecture"),
                        num_threads=lib.get("num_threads"), version=lib.get("version"))
    except ImportError:
        info["note"] = "threadpoolctl not installed: kernel unknown (pip install threadpoolctl)"
    return info


def load_mnist(max_rows: int | None = None):
    """(x_train, y_train, x_test, y_test, source): float32 in [0, 1], integer labels.

    Real MNIST from ../shared/data/mnist (or $BACKPROP_LAB_DATA / the cache); MNIST-shaped random
    data when it is absent (source says which)."""
    import numpy as np
    try:
        from engine.datasets import mnist
        path = str(SHARED_MNIST) if SHARED_MNIST.is_dir() else None
        (xtr, ytr), (xte, yte) = mnist.load_data(path)
        source = f"MNIST files in {path or 'the default location'}"
    except Exception as exc:   # not found or unreadable: random data of the same shapes
        rng = np.random.default_rng(0)
        xtr = rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8)
        ytr = rng.integers(0, 10, 60000)
        xte = rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8)
        yte = rng.integers(0, 10, 10000)
        source = f"RANDOM MNIST-shaped data (real MNIST not found: {type(exc).__name__})"
    xtr = xtr.reshape(len(xtr), -1).astype(np.float32) / np.float32(255)
    xte = xte.reshape(len(xte), -1).astype(np.float32) / np.float32(255)
    if max_rows:
        xtr, ytr = xtr[:max_rows], ytr[:max_rows]
    return xtr, ytr.astype(np.int64), xte, yte.astype(np.int64), source


def median(values):
    return statistics.median(values) if values else None


def percentile(values, q):
    """The q-th percentile (nearest rank) of ``values``."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(q / 100 * len(s) + 0.5)) - 1))
    return s[k]


def timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start

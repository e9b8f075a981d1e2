"""Helpers of the comparisons' worker pool: which workers died when it broke, and one BLAS thread
per worker while they spawn."""
from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor


def dead_workers(pool: ProcessPoolExecutor, wait: float = 2.0) -> dict[int, int]:
    """{pid: exit code} of the pool's workers that died, as seen when the pool broke (worked out
    once per pool: its other workers are stopped right after). A worker's death is seen by the pool
    (its pipe closes) a moment before the process can be reaped, so this waits up to ``wait``
    seconds for the first exit code. concurrent.futures keeps the workers in ``_processes``, a
    private attribute: {} if it is not there."""
    known = getattr(pool, "_dead_workers", None)
    if known is not None:
        return known
    processes = dict(getattr(pool, "_processes", None) or {})
    dead: dict[int, int] = {}
    deadline = time.monotonic() + wait
    while True:
        for pid, process in processes.items():
            try:
                code = process.exitcode
            except (ValueError, OSError):       # pragma: no cover - closed or already reaped
                continue
            if code is not None:
                dead[pid] = code
        if dead or time.monotonic() >= deadline:
            break
        time.sleep(0.01)
    pool._dead_workers = dead
    return dead


class one_blas_thread:
    """Set OPENBLAS/OMP/MKL_NUM_THREADS=1 while the workers spawn (they inherit the environment)."""
    VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

    def __enter__(self):
        self.saved = {v: os.environ.get(v) for v in self.VARS}
        os.environ.update({v: "1" for v in self.VARS})

    def __exit__(self, *exc):
        for var, value in self.saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value

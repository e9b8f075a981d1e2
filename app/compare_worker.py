"""Code that runs inside a comparison worker process (imports only the engine: quick to spawn)."""
from __future__ import annotations

import os
import time

import app.blas  # noqa: F401  (first: one BLAS thread unless asked, before NumPy loads)
from engine import sweep
from engine.compare import range_test_run


def init() -> None:
    """Pool initializer: the engine (and NumPy) are imported by now; nothing else to do."""


def warm(seconds: float) -> int:
    """Keep this worker busy for a moment so the pool starts the next task in another process."""
    time.sleep(seconds)
    return os.getpid()


class _Stopper:
    """should_stop() that asks the shared cancel event at most every ``interval`` seconds."""

    def __init__(self, event, interval: float = 0.05):
        self.event, self.interval, self.last, self.stopped = event, interval, 0.0, False

    def __call__(self) -> bool:
        now = time.monotonic()
        if not self.stopped and now - self.last >= self.interval:
            self.last, self.stopped = now, bool(self.event.is_set())
        return self.stopped


class Batcher:
    """Progress messages sent as a list at most every ``interval`` seconds: each put on a Manager's or
    a Dask Queue is a round trip to another process (one per epoch and per flush of batch losses made
    8 short runs of the default network take 1.95 × the local executor's time on a LocalCluster).
    ``prepare`` turns each message into what the queue carries (Dask: plain Python numbers)."""

    def __init__(self, send, interval: float = 0.1, prepare=lambda message: message):
        self.send, self.interval, self.prepare = send, interval, prepare
        self.pending, self.last = [], time.monotonic()

    def __call__(self, message: dict) -> None:
        self.pending.append(self.prepare(message))
        if time.monotonic() - self.last >= self.interval:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.send(self.pending)
        self.pending, self.last = [], time.monotonic()


def run(job_id: str, index: int, spec: dict, task: dict, queue, cancel, attempt: int = 0) -> str:
    """Train one run (task["mode"] sweep: the spec with the task's settings; range_test: the LR range test).

    Progress messages go to ``queue`` as (job_id, index, attempt, [message, ...]), a list at most
    every 0.1 s (Batcher); the first says which process runs it (its pid), the last one is the result.
    """
    progress = Batcher(lambda messages: queue.put((job_id, index, attempt, messages)))
    try:
        progress({"event": "started", "pid": os.getpid(), "worker": f"local:{os.getpid()}"})
        progress.flush()
        if task["mode"] == "range_test":
            result = range_test_run(sweep.apply(spec, task.get("settings", {})), task["min_lr"], task["max_lr"],
                                    task.get("steps"), progress=progress, should_stop=_Stopper(cancel))
        else:
            result = sweep.run({"spec": spec, "settings": task["settings"], "epochs": task["epochs"]},
                               progress=progress, should_stop=_Stopper(cancel))
    except Exception as exc:   # reported to the client as this run's error; the other runs go on
        progress({"event": "error", "message": f"{type(exc).__name__}: {exc}"})
        progress.flush()
        return "error"
    progress({"event": "result", **result})
    progress.flush()
    return result["status"]

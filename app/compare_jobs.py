"""Learning-rate comparisons and range tests, trained in parallel worker processes.

Each run is a task for a ``ProcessPoolExecutor`` (spawn context); workers report progress through a
``multiprocessing.Manager`` queue, which one collector thread folds into the jobs' curves. A job is
cancelled by setting its shared event (running runs stop at their next batch). A run that diverges
is marked so; the others go on.
"""
from __future__ import annotations

import multiprocessing
import os
import queue as queue_mod
import threading
import time
from concurrent.futures import ProcessPoolExecutor

from . import compare_worker
from .errors import NotFound, ServerFull
from .sessions import new_id
from .settings import Settings
from .tensors import sanitize

FINISHED = ("done", "diverged", "cancelled", "error")


class Job:
    """One comparison: its runs' status and curves so far."""

    def __init__(self, mode: str, config: dict, tasks: list[dict], cancel_event):
        self.id, self.mode, self.config, self.cancel_event = new_id(), mode, config, cancel_event
        self.created, self.cancelled, self.futures = time.time(), False, []
        self.runs = [{"learning_rate": t.get("learning_rate"), "status": "queued", "epoch": 0,
                      "initial": None, "diverged": None, "error": None,
                      "history": {"batch_loss": []}} for t in tasks]
        self.result: dict = {}

    @property
    def status(self) -> str:
        states = {r["status"] for r in self.runs}
        if states <= set(FINISHED):
            return "cancelled" if self.cancelled else ("error" if states == {"error"} else "done")
        return "cancelling" if self.cancelled else "running"

    def public(self) -> dict:
        return sanitize({"id": self.id, "mode": self.mode, "status": self.status, "runs": self.runs,
                         "config": self.config, **self.result})


class CompareManager:
    """Starts, tracks and cancels jobs; the pool and the manager process start on first use."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = self._manager = self._queue = self._collector = None
        self._stop = threading.Event()

    def _ensure_started(self) -> None:
        if self._pool is not None:
            return
        ctx = multiprocessing.get_context("spawn")
        self._manager = ctx.Manager()
        self._queue = self._manager.Queue()
        n = self.settings.compare_workers
        with _one_blas_thread():     # the workers' NumPy loads with 1 BLAS thread: n workers, n cores
            self._pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=compare_worker.init)
            # Start every worker now (the pool spawns them only on demand): a comparison should not
            # wait for a process to import NumPy and the engine halfway through.
            warm = [self._pool.submit(compare_worker.warm, 0.2) for _ in range(n)]
            for future in warm:
                future.result(timeout=60)
        self._collector = threading.Thread(target=self._collect, name="compare-collector", daemon=True)
        self._collector.start()

    def start(self, mode: str, config: dict, tasks: list[dict]) -> Job:
        """Queue one run per task; 503 when too many jobs are running."""
        with self._lock:
            self._ensure_started()
            self._make_room()
            job = Job(mode, config, tasks, self._manager.Event())
            self._jobs[job.id] = job
        for index, task in enumerate(tasks):
            future = self._pool.submit(compare_worker.run, job.id, index, config, task, self._queue,
                                       job.cancel_event)
            future.add_done_callback(lambda f, j=job, i=index: self._finished(j, i, f))
            job.futures.append(future)
        return job

    def _make_room(self) -> None:
        if len(self._jobs) < self.settings.max_compare_jobs:
            return
        done = sorted((j for j in self._jobs.values() if j.status in FINISHED), key=lambda j: j.created)
        if not done:
            raise ServerFull(f"{len(self._jobs)} comparisons are running, the maximum; "
                             "wait for one to finish or cancel one")
        del self._jobs[done[0].id]

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"no comparison {job_id!r}")
        return job

    def snapshot(self, job_id: str) -> dict:
        job = self.get(job_id)
        with self._lock:
            return job.public()

    def cancel(self, job_id: str) -> dict:
        job = self.get(job_id)
        job.cancelled = True
        job.cancel_event.set()
        with self._lock:
            for run, future in zip(job.runs, job.futures):
                if future.cancel():
                    run["status"] = "cancelled"
            return job.public()

    def _finished(self, job: Job, index: int, future) -> None:
        """A worker crash (or a cancel before start) still ends the run."""
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            with self._lock:
                job.runs[index].update(status="error", error=f"worker failed: {type(exc).__name__}: {exc}")

    def _collect(self) -> None:
        while not self._stop.is_set():
            try:
                job_id, index, message = self._queue.get(timeout=0.2)
            except queue_mod.Empty:
                continue
            except (EOFError, OSError, BrokenPipeError):
                return
            with self._lock:
                job = self._jobs.get(job_id)
                if job is not None:
                    _apply(job, index, message)

    def shutdown(self) -> None:
        """Cancel every job and stop the workers, the collector and the manager."""
        self._stop.set()
        if self._pool is None:
            return
        for job in list(self._jobs.values()):
            try:
                job.cancel_event.set()
            except Exception:
                pass
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._collector.join(timeout=2)
        self._manager.shutdown()
        self._pool = None


class _one_blas_thread:
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


def _apply(job: Job, index: int, message: dict) -> None:
    """Fold one progress message into the job's curves."""
    run, event = job.runs[index], message.get("event")
    history = run["history"]
    if event == "started":
        run["status"] = "running"
    elif event == "initial":
        run["initial"] = {k: v for k, v in message.items() if k != "event"}
    elif event == "batch_loss":
        history["batch_loss"].extend(message["values"])
    elif event == "epoch":
        run["epoch"] = message["epoch"]
        for key, value in message["logs"].items():
            history.setdefault(key, []).append(value)
    elif event == "range_step":
        for key, name in (("learning_rate", "learning_rate"), ("batch_loss", "loss"), ("smoothed_loss", "smoothed")):
            history.setdefault(key, []).append(message[name])
    elif event == "error":
        run.update(status="error", error=message["message"])
    elif event == "result":
        _apply_result(job, run, message)


def _apply_result(job: Job, run: dict, message: dict) -> None:
    run["status"], run["diverged"] = message["status"], message.get("diverged")
    if job.mode == "range_test":
        run["history"] = {"learning_rate": message["learning_rates"], "batch_loss": message["losses"],
                          "smoothed_loss": message["smoothed"]}
        job.result = {"suggested_learning_rate": message["suggested_learning_rate"],
                      "suggestions": message.get("suggestions"), "stopped": message["stopped"]}
        run["learning_rate"] = message["suggested_learning_rate"]
    else:
        run["history"] = message["history"]

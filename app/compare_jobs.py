"""Learning-rate comparisons and range tests, trained in parallel worker processes.

Each run is a task for a ``ProcessPoolExecutor`` (spawn context); workers report progress through a
``multiprocessing.Manager`` queue (a list of messages at a time), which one collector thread folds
into the jobs' curves. A job is cancelled by setting its shared event (running runs stop at their
next batch). A run that diverges is marked so; the others go on.

A worker that dies (killed, out of memory) breaks the whole pool: ``concurrent.futures`` fails every
run it held and stops the other workers. The pool is then replaced by a new one: the run whose
worker died is an error, the runs that were waiting or that the pool stopped in healthy workers
start again in the new pool (each at most MAX_RETRIES times), and later comparisons use it.
"""
from __future__ import annotations

import multiprocessing
import queue as queue_mod
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from engine.lr_finder import seeded_suggestion

from . import compare_worker, curves
from .errors import NotFound, ServerFull
from .sessions import new_id
from .settings import Settings
from .tensors import sanitize
from .worker_pool import dead_workers, one_blas_thread

FINISHED = ("done", "diverged", "cancelled", "error")
MAX_RETRIES = 1     # times a run stopped by another worker's death starts again


class Job:
    """One comparison: its runs' status and curves so far."""

    def __init__(self, mode: str, config: dict, tasks: list[dict], cancel_event, max_points: int = 2000):
        self.id, self.mode, self.config, self.cancel_event = new_id(), mode, config, cancel_event
        self.created, self.cancelled, self.futures = time.time(), False, []
        self.tasks, self.attempts, self.pids = tasks, [0] * len(tasks), [None] * len(tasks)
        self.max_points = max_points
        self.runs = [new_run(t) for t in tasks]
        self.result: dict = {}

    @property
    def status(self) -> str:
        states = {r["status"] for r in self.runs}
        if states <= set(FINISHED):
            return "cancelled" if self.cancelled else ("error" if states == {"error"} else "done")
        return "cancelling" if self.cancelled else "running"

    def public(self, points: int | None = None) -> dict:
        """The job as an answer (``points``: each batch-loss curve thinned to at most that many)."""
        return {**sanitize({"id": self.id, "mode": self.mode, "status": self.status, "config": self.config,
                            **self.result}), "runs": [curves.public_run(run, points) for run in self.runs]}


def new_run(task: dict) -> dict:
    """A run's entry before it starts: its settings, and where it will run ("worker") once it does."""
    return {"learning_rate": task.get("learning_rate"), "settings": task.get("settings", {}),
            "config": task.get("config"), "worker": None,
            "status": "queued", "epoch": 0, "steps": 0, "initial": None, "diverged": None, "error": None,
            "history": {"batch_loss": []}, "batch_loss_stride": 1}


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
        self._stop.clear()          # started again after a shutdown (an app whose lifespan restarted)
        self._manager = ctx.Manager()
        self._queue = self._manager.Queue()
        self._pool = self._new_pool()
        self._collector = threading.Thread(target=self._collect, name="compare-collector", daemon=True)
        self._collector.start()

    def _new_pool(self) -> ProcessPoolExecutor:
        n = self.settings.compare_workers
        ctx = multiprocessing.get_context("spawn")
        with one_blas_thread():     # the workers' NumPy loads with 1 BLAS thread: n workers, n cores
            pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=compare_worker.init)
            # Start every worker now (the pool spawns them only on demand): a comparison should not
            # wait for a process to import NumPy and the engine halfway through.
            warm = [pool.submit(compare_worker.warm, 0.2) for _ in range(n)]
            for future in warm:
                future.result(timeout=60)
        return pool

    def _replace_pool(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        """The pool to use now: a new one if ``broken`` is still the current one (call with _lock)."""
        if self._pool is broken and not self._stop.is_set():
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
        return self._pool

    def _submit(self, job: Job, index: int) -> None:
        """Queue run ``index`` of ``job`` in the current pool (a broken pool is replaced first)."""
        for _ in range(2):
            pool = self._pool
            try:
                future = pool.submit(compare_worker.run, job.id, index, job.config, job.tasks[index],
                                     self._queue, job.cancel_event, job.attempts[index])
                break
            except BrokenProcessPool:
                with self._lock:
                    self._replace_pool(pool)
        else:       # pragma: no cover - a pool that breaks again at once
            raise ServerFull("the comparison workers could not be restarted; try again")
        future.add_done_callback(lambda f, p=pool: self._finished(job, index, f, p))
        if index < len(job.futures):
            job.futures[index] = future
        else:
            job.futures.append(future)

    def start(self, mode: str, config: dict, tasks: list[dict]) -> Job:
        """Queue one run per task; 503 when too many jobs are running."""
        with self._lock:
            self._ensure_started()
            self._make_room()
            job = Job(mode, config, tasks, self._manager.Event(), self.settings.max_curve_points)
            self._jobs[job.id] = job
        for index in range(len(tasks)):
            self._submit(job, index)
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

    def snapshot(self, job_id: str, points: int | None = None) -> dict:
        """The job's state; with ``points`` each batch-loss curve thinned further to at most that many."""
        job = self.get(job_id)
        with self._lock:
            return job.public(points)

    def cancel(self, job_id: str) -> dict:
        job = self.get(job_id)
        job.cancelled = True
        try:
            job.cancel_event.set()
        except (OSError, EOFError):     # its manager is gone (after shutdown): nothing runs any more
            pass
        with self._lock:
            for run, future in zip(job.runs, job.futures):
                if future.cancel():
                    run["status"] = "cancelled"
            return job.public()

    def _finished(self, job: Job, index: int, future, pool: ProcessPoolExecutor) -> None:
        """A worker crash (or a cancel before start) still ends the run. When the pool broke (this
        callback runs before it stops its other workers), a run whose own worker is still alive,
        or that never started, goes to a new pool (see ``_recover``)."""
        if future.cancelled():
            return
        exc = future.exception()
        if exc is None:
            return
        try:
            self._failed(job, index, exc, pool)
        except Exception as err:        # pragma: no cover - never leave a run "running" forever
            with self._lock:
                job.runs[index].update(status="error", error=f"worker failed: {type(err).__name__}: {err}")

    def _failed(self, job: Job, index: int, exc: BaseException, pool: ProcessPoolExecutor) -> None:
        if isinstance(exc, BrokenProcessPool):
            dead = dead_workers(pool)
            pid = job.pids[index]
            if pid not in dead and job.attempts[index] < MAX_RETRIES and not job.cancelled:
                with self._lock:
                    job.attempts[index] += 1
                    job.pids[index] = None
                    job.runs[index] = new_run(job.tasks[index])
                threading.Thread(target=self._recover, args=(pool, job, index), daemon=True).start()
                return
            code = dead.get(pid)
            why = f"its worker process {pid} died (exit code {code})" if pid in dead else "its worker process died"
            with self._lock:
                job.runs[index].update(status="error", error=f"worker failed: {why}; the other runs go on")
            threading.Thread(target=self._recover, args=(pool, None, index), daemon=True).start()
            return
        with self._lock:
            job.runs[index].update(status="error", error=f"worker failed: {type(exc).__name__}: {exc}")

    def _recover(self, broken: ProcessPoolExecutor, job: Job | None, index: int) -> None:
        """Replace the broken pool (once), then start run ``index`` of ``job`` again in the new one."""
        try:
            with self._lock:
                self._replace_pool(broken)
            if job is not None and not self._stop.is_set():
                self._submit(job, index)
        except Exception as exc:        # pragma: no cover - could not start a new pool
            if job is not None:
                with self._lock:
                    job.runs[index].update(status="error", error=f"worker failed: {type(exc).__name__}: {exc}")

    def _collect(self) -> None:
        while not self._stop.is_set():
            try:
                job_id, index, attempt, messages = self._queue.get(timeout=0.2)   # a list at a time
            except queue_mod.Empty:
                continue
            except (EOFError, OSError, BrokenPipeError):
                return
            with self._lock:
                job = self._jobs.get(job_id)
                if job is None or attempt != job.attempts[index]:     # gone, or an earlier try's
                    continue
                for message in messages:
                    if message.get("event") == "started":
                        job.pids[index] = message.get("pid")
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
        with self._lock:            # nothing runs now: what had not finished never will
            for job in self._jobs.values():
                job.cancelled = True
                for run in job.runs:
                    if run["status"] not in FINISHED:
                        run["status"] = "cancelled"


def _apply(job: Job, index: int, message: dict) -> None:
    """Fold one progress message into the job's curves."""
    run, event = job.runs[index], message.get("event")
    history = run["history"]
    if event == "started":
        run["status"] = "running"
        run["worker"] = message.get("worker") or f"local:{message.get('pid')}"
    elif event == "initial":
        run["initial"] = {k: v for k, v in message.items() if k != "event"}
    elif event == "batch_loss":
        curves.extend(run, message["values"], job.max_points)
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
    for key in ("initial", "worker", "boundary"):   # the result may arrive before the progress that said them
        if message.get(key) is not None:
            run[key] = message[key]
    if job.mode == "range_test":
        run["history"] = {"learning_rate": message["learning_rates"], "batch_loss": message["losses"],
                          "smoothed_loss": message["smoothed"]}
        run["learning_rate"], run["stopped"] = message["suggested_learning_rate"], message["stopped"]
        ran = [r for r in job.runs if r["status"] in FINISHED and r["history"].get("smoothed_loss")]
        job.result = {**seeded_suggestion([{"learning_rates": r["history"]["learning_rate"],
                                            "smoothed": r["history"]["smoothed_loss"]} for r in ran]),
                      "stopped": message["stopped"]}
    else:
        history = dict(message["history"])
        run["steps"] = len(history["batch_loss"])
        history["batch_loss"], run["batch_loss_stride"] = curves.thin(history["batch_loss"], job.max_points)
        run["history"] = history

"""Sweeps on a Dask cluster (``backprop-lab serve --dask tcp://HOST:PORT``, or BACKPROP_LAB_DASK).

Each run is a Dask future of app/dask_worker.py's ``run`` (engine.sweep.run: the same numbers as
the local workers, bit for bit). Progress flows back while the runs train through one Dask
``Queue`` per server, which a collector thread folds into the jobs' curves (as the local
executor's); a run's result is its future's value. Cancelling sets the job's Dask ``Event`` (a
running run stops at its next look, every 0.2 s) and cancels the futures. A worker that dies
mid-run: Dask runs that task again on another worker (up to its ``allowed-failures``, then
``KilledWorker``: that run is an error) and the other runs go on.
"""
from __future__ import annotations

import threading
import time

from . import dask_worker
from .compare_jobs import FINISHED, CompareManager, Job, _apply, new_run
from .errors import ServerFull
from .sessions import new_id

INSTALL = ('Sweeps on a Dask cluster need dask.distributed: pip install -e ".[dask]" '
           '(or pip install "dask[distributed]")')


def require_dask() -> None:
    """RuntimeError saying how to install dask.distributed when it cannot be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise RuntimeError(INSTALL) from None


class DaskManager(CompareManager):
    """CompareManager's jobs, run as futures on the Dask scheduler at ``address``."""

    def __init__(self, settings, address: str | None = None):
        super().__init__(settings)
        self.address = address or settings.dask_address
        self._client = self._queue_name = None
        self.warmed: dict[str, int] = {}    # worker address → pid of the workers warmed at connect

    def connect(self, timeout: float = 10.0):
        """Connect to the scheduler (at the first sweep, or now); the Client."""
        if self._client is not None and self._client.status not in ("running", "connecting", "newly-created"):
            self._client = None         # the scheduler went away and the client gave up: connect again
        if self._client is None:
            require_dask()
            from distributed import Client, Queue
            self._stop.clear()
            self._client = Client(self.address, timeout=timeout, set_as_default=False)
            self._queue_name = f"backprop-lab-{new_id()}"
            self._queue = Queue(self._queue_name, client=self._client)
            self._collector = threading.Thread(target=self._collect, args=(self._queue,), name="dask-collector",
                                               daemon=True)
            self._collector.start()
            self._warm()
        return self._client

    def _warm(self, timeout: float = 10.0) -> None:
        """Import the engine on every worker now (dask_worker.warm), not in each worker's first run;
        at most ``timeout`` seconds (Client.run has no timeout of its own: a stuck worker goes on
        warming in the background while the sweep starts)."""
        warmed: dict[str, int] = {}

        def ask() -> None:
            try:
                warmed.update(self._client.run(dask_worker.warm))
            except Exception:   # pragma: no cover - a worker that cannot be warmed still gets its runs
                pass
        thread = threading.Thread(target=ask, name="dask-warm", daemon=True)
        thread.start()
        thread.join(timeout)
        self.warmed = dict(warmed)

    def _ensure_started(self) -> None:
        try:
            self.connect()
        except OSError as exc:
            raise ServerFull(f"the Dask scheduler at {self.address} cannot be reached: {exc}") from None

    def start(self, mode: str, config: dict, tasks: list[dict]) -> Job:
        from distributed import Event
        with self._lock:
            self._ensure_started()
            self._make_room()
            job = Job(mode, config, tasks, None, self.settings.max_curve_points)
            job.cancel_event = Event(f"cancel-{job.id}", client=self._client)
            job.tokens = [None] * len(tasks)
            self._jobs[job.id] = job
        for index, task in enumerate(tasks):
            future = self._client.submit(dask_worker.run, job.id, index, config, task, self._queue_name,
                                         f"cancel-{job.id}", key=f"sweep-{job.id}-{index}", pure=False)
            job.futures.append(future)
            future.add_done_callback(lambda f, i=index: self._done(job, i, f))
        return job

    def _done(self, job: Job, index: int, future) -> None:
        """A future finished: its result, its error (a KilledWorker names the dead worker) or a cancel."""
        with self._lock:
            run = job.runs[index]
            if run["status"] in FINISHED:
                return
            if future.status == "cancelled":
                run["status"] = "cancelled"
            elif future.status == "error":
                exc = future.exception()
                run.update(status="error", error=f"worker failed: {type(exc).__name__}: {exc}; the other runs go on")
            else:
                _apply(job, index, {"event": "result", **future.result()})

    def cancel(self, job_id: str) -> dict:
        job = self.get(job_id)
        job.cancelled = True
        job.cancel_event.set()
        self._client.cancel([f for f in job.futures if not f.done()])
        with self._lock:
            for run in job.runs:
                if run["status"] not in FINISHED:
                    run["status"] = "cancelled"
            return job.public()

    def _collect(self, queue) -> None:
        """Fold ``queue``'s messages into the jobs until shutdown or until a new connection replaced it."""
        while not self._stop.is_set() and self._queue is queue:
            try:
                messages = queue.get(batch=True)
            except Exception:          # the client closed (shutdown) or the scheduler went away
                if self._stop.wait(0.5):
                    return
                continue
            with self._lock:
                for job_id, index, token, batch in messages:       # a worker's messages, a list at a time
                    for message in batch:
                        self._fold(job_id, index, token, message)
            if not messages:
                time.sleep(0.1)

    def _fold(self, job_id: str, index: int, token: str, message: dict) -> None:
        """One progress message (call with _lock); a new attempt's "started" starts its curves afresh."""
        job = self._jobs.get(job_id)
        if job is None or job.runs[index]["status"] in FINISHED:
            return          # a finished run has its whole result; late messages add nothing
        if message.get("event") == "started":
            if job.tokens[index] is not None:
                job.runs[index] = {**new_run(job.tasks[index]), "retried": True}
            job.tokens[index] = token
        elif token != job.tokens[index]:
            return          # an earlier attempt's
        _apply(job, index, message)

    def shutdown(self) -> None:
        self._stop.set()
        if self._client is None:
            return
        for job in list(self._jobs.values()):
            try:
                job.cancel_event.set()
                self._client.cancel(job.futures)
            except Exception:
                pass
        with self._lock:
            for job in self._jobs.values():
                job.cancelled = True
                for run in job.runs:
                    if run["status"] not in FINISHED:
                        run["status"] = "cancelled"
        self._client.close()
        self._client = None
        if self._collector is not None:
            self._collector.join(timeout=2)


def use_dask(application, address: str) -> DaskManager:
    """Make ``application``'s comparisons and sweeps run on the Dask scheduler at ``address`` (its
    local manager has started nothing yet: workers and queues start at the first comparison)."""
    require_dask()
    application.state.compare.shutdown()
    manager = application.state.compare = DaskManager(application.state.settings, address)
    return manager

"""Code that runs inside a comparison worker process (imports only the engine: quick to spawn)."""
from __future__ import annotations

import os
import threading
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


class Courier:
    """A run's progress sent, and its cancel event looked at, from a thread of its own, so that the
    training never waits: each put on a Manager's or a Dask Queue and each look at the event is a
    round trip to another process. Measured on a LocalCluster (load 3.3): 14 puts and 7 looks per run
    of the default network held it 75-190 ms of its 1.4 s. Messages go as a list at most every
    ``interval`` seconds, in order (one sender); the event is asked every ``look`` seconds.
    ``prepare`` turns each message into what the queue carries (Dask: plain Python numbers), in the
    caller's thread; the engine hands over new lists and dicts in each message and leaves them alone.
    A queue or event that fails (the server shut down) stops the run: ``should_stop()`` says so."""

    def __init__(self, send, event, interval: float = 0.1, look: float = 0.05, prepare=lambda message: message):
        self.send, self.event, self.interval, self.look, self.prepare = send, event, interval, look, prepare
        self.pending, self.lock, self.closing, self.stopped = [], threading.Lock(), threading.Event(), False
        self.thread = threading.Thread(target=self._loop, name="progress-courier", daemon=True)
        self.thread.start()

    def __call__(self, message: dict) -> None:
        message = self.prepare(message)
        with self.lock:
            self.pending.append(message)

    def should_stop(self) -> bool:
        return self.stopped

    def _loop(self) -> None:
        sent = time.monotonic()
        while not self.closing.wait(self.look):
            try:
                if not self.stopped:
                    self.stopped = bool(self.event.is_set())
                if time.monotonic() - sent >= self.interval:
                    self._send()
                    sent = time.monotonic()
            except Exception:       # the Manager or the scheduler is gone: nothing will read us now
                self.stopped = True
                return
        try:
            self._send()
        except Exception:
            self.stopped = True

    def _send(self) -> None:
        with self.lock:
            messages, self.pending = self.pending, []
        if messages:
            self.send(messages)

    def close(self, wait: bool = True) -> None:
        """Send what is left (and, with ``wait``, return once it is sent)."""
        self.closing.set()
        if wait:
            self.thread.join()


def run(job_id: str, index: int, spec: dict, task: dict, queue, cancel, attempt: int = 0) -> str:
    """Train one run (task["mode"] sweep: the spec with the task's settings; range_test: the LR range test).

    Progress messages go to ``queue`` as (job_id, index, attempt, [message, ...]): the first, sent
    before training, says which process runs it (its pid: the server needs it if this process dies);
    the others a list at most every 0.1 s (Courier); the last one is the result, sent before returning.
    """
    def send(messages: list) -> None:
        queue.put((job_id, index, attempt, messages))
    send([{"event": "started", "pid": os.getpid(), "worker": f"local:{os.getpid()}"}])
    courier = Courier(send, cancel)
    try:
        result = train(spec, task, courier)
    except Exception as exc:   # reported to the client as this run's error; the other runs go on
        courier({"event": "error", "message": f"{type(exc).__name__}: {exc}"})
        return "error"
    else:
        courier({"event": "result", **result})
        return result["status"]
    finally:
        courier.close()


def train(spec: dict, task: dict, courier: Courier) -> dict:
    """The task's run (sweep.run or the range test), its progress to ``courier``, stopped when it says."""
    if task["mode"] == "range_test":
        return range_test_run(sweep.apply(spec, task.get("settings", {})), task["min_lr"], task["max_lr"],
                              task.get("steps"), progress=courier, should_stop=courier.should_stop)
    return sweep.run({"spec": spec, "settings": task["settings"], "epochs": task["epochs"]},
                     progress=courier, should_stop=courier.should_stop)

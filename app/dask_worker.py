"""Code that runs on a Dask worker: one run of a sweep, its progress sent back through a Dask Queue.

The worker needs this package installed (``pip install -e ".[dask]"`` on every machine of the
cluster, the same version as the server). Messages are (job_id, index, token, [message, ...]) with plain
Python numbers (a Dask Queue carries msgpack data); ``token`` is new at every attempt, so when Dask
runs the task again after its worker died, the server starts that run's curves afresh.
"""
from __future__ import annotations

import os
import uuid

import app.blas  # noqa: F401  (one BLAS thread unless asked, as in the local workers)

from .compare_worker import Courier, train


def plain(value):
    """``value`` with NumPy scalars and arrays as Python numbers and lists (msgpack-encodable)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def warm() -> int:
    """Run on every worker when the server connects (Client.run): unpickling this function imports
    this module, and with it the engine, so the first run on each worker does not pay for that
    (about 0.25 s per worker, measured; a tenth of an 8-run sweep of the default network)."""
    return os.getpid()


def run(job_id: str, index: int, spec: dict, task: dict, queue_name: str, event_name: str) -> dict:
    """Train run ``index`` of sweep ``job_id`` (engine.sweep.run); returns its result. Its progress
    goes through a Courier (sent and the cancel event asked every 0.2 s off the training's thread:
    each is a round trip to the scheduler); the last of it is not waited for (the result has it)."""
    from distributed import Event, Queue, get_worker

    queue, cancel, token = Queue(queue_name), Event(event_name), uuid.uuid4().hex
    worker = get_worker().address

    def send(messages: list) -> None:
        queue.put([job_id, index, token, messages])
    send([{"event": "started", "pid": os.getpid(), "worker": worker}])
    courier = Courier(send, cancel, look=0.2, prepare=plain)
    try:
        result = train(spec, task, courier)
    finally:
        courier.close(wait=False)
    return {**result, "worker": worker}

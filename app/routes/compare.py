"""/api/compare: learning-rate comparisons and LR range tests in worker processes."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from ..answer_schemas import COMMON, errors
from ..compare_jobs import CompareManager
from ..deps import get_compare, get_store
from ..schemas import CompareCreate
from ..store import SessionStore
from ..sweeps import check_size, tasks

router = APIRouter(prefix="/api/compare", tags=["compare"], responses=errors(*COMMON))
Manager = Annotated[CompareManager, Depends(get_compare)]


@router.post("", status_code=202, responses=errors(422, 503))
async def start(body: CompareCreate, manager: Manager, store: Annotated[SessionStore, Depends(get_store)]):
    """Start: one run per learning rate, per combination of a ``grid``'s axes or per entry of ``runs``
    (runs with the same architecture and seed start from the same initial weights and see the same
    batches), or one range test. Each run answers its ``settings`` and the ``worker`` it ran on.

    Validates the config by building it once here (422 naming the field; too many runs: 422 naming
    max_sweep_runs), then answers at once; poll GET /api/compare/{id} for the curves so far."""
    check_size(body, store.settings)
    probe = await run_in_threadpool(store.build, body)
    dataset = probe.config["dataset"]
    if dataset["name"] == "csv":               # workers read the uploaded file by path
        dataset = store.uploads.worker_spec(dataset)
    config = {**probe.config, "dataset": dataset}
    job = await run_in_threadpool(manager.start, body.mode, config, tasks(body, config, store.settings))
    return {**manager.snapshot(job.id), "epochs": body.epochs}


@router.get("/{job_id}", responses=errors(404))
async def get(job_id: str, manager: Manager,
              points: Annotated[int | None, Query(ge=2, le=100_000, description="Thin each run's batch-loss "
                                                  "curve to at most this many points (every 2nd, 4th, ... step; "
                                                  "its batch_loss_stride says which).")] = None):
    return await run_in_threadpool(manager.snapshot, job_id, points)      # a 200-run sweep: not on the loop


@router.delete("/{job_id}", responses=errors(404))
async def cancel(job_id: str, manager: Manager):
    """Cancel: queued runs never start, running ones stop at their next batch."""
    return await run_in_threadpool(manager.cancel, job_id)

"""A comparison worker that dies (issue 12, item 8): its run reports an error, the pool is replaced,
the other runs finish, and later comparisons work (they answered 500 BrokenProcessPool)."""
from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from app_helpers import SMALL_NET, strict_json

pytestmark = pytest.mark.anyio
LONG = {**SMALL_NET, "dataset": {"name": "spiral", "n_samples": 1000, "seed": 1}, "batch_size": 2}


async def _job(client, job_id: str) -> dict:
    return strict_json(await client.get(f"/api/compare/{job_id}"))


async def _until(client, job_id: str, done, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = await _job(client, job_id)
        if done(job):
            return job
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.05)


async def test_a_killed_worker_fails_its_run_only_and_the_pool_is_replaced(client, app):
    r = await client.post("/api/compare", json={**LONG, "learning_rates": [0.05, 0.1], "epochs": 40})
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    manager = app.state.compare
    job = manager.get(job_id)
    await _until(client, job_id, lambda j: all(run["status"] == "running" and run["history"]["batch_loss"]
                                               for run in j["runs"]) and all(job.pids))
    old_pool, victim = manager._pool, job.pids[0]
    os.kill(victim, signal.SIGKILL)
    final = await _until(client, job_id, lambda j: j["status"] not in ("running", "cancelling"), timeout=120)
    first, second = final["runs"]
    assert first["status"] == "error" and str(victim) in first["error"] and "died" in first["error"]
    assert second["status"] == "done" and len(second["history"]["loss"]) == 40, second["status"]
    assert final["status"] == "done"
    assert manager._pool is not old_pool
    # a later comparison works (every later POST answered 500 BrokenProcessPool before)
    r = await client.post("/api/compare", json={**SMALL_NET, "learning_rates": [0.1], "epochs": 2})
    assert r.status_code == 202, r.text
    later = await _until(client, r.json()["id"], lambda j: j["status"] not in ("running", "cancelling"))
    assert later["status"] == "done" and later["runs"][0]["status"] == "done"


async def test_a_post_right_after_a_worker_died_gets_a_new_pool(client, app):
    r = await client.post("/api/compare", json={**SMALL_NET, "learning_rates": [0.1], "epochs": 1})
    assert r.status_code == 202
    await _until(client, r.json()["id"], lambda j: j["status"] == "done")
    manager = app.state.compare
    pool = manager._pool
    for pid in list(pool._processes):            # every worker dies while idle
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:               # gone already (the pool saw another one die first)
            pass
    deadline = time.monotonic() + 10
    while not pool._broken and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    r = await client.post("/api/compare", json={**SMALL_NET, "learning_rates": [0.1, 0.2], "epochs": 2})
    assert r.status_code == 202, r.text
    job = await _until(client, r.json()["id"], lambda j: j["status"] not in ("running", "cancelling"))
    assert job["status"] == "done" and [run["status"] for run in job["runs"]] == ["done", "done"]

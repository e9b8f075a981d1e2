"""Shared helpers of the server tests (imported by name: tests/app is on sys.path)."""
from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx
import numpy as np

SMALL_NET = {"dataset": {"name": "spiral", "n_samples": 200, "seed": 1},
             "layers": [{"units": 8, "activation": "tanh"}, {"units": 8, "activation": "tanh"},
                        {"units": 2, "activation": "softmax"}],
             "loss": "categorical_crossentropy", "optimizer": {"name": "sgd", "learning_rate": 0.1},
             "batch_size": 4, "seed": 0}


def strict_json(response: httpx.Response):
    """The body parsed with NaN/Infinity refused (json.loads accepts them by default)."""
    def refuse(token):
        raise AssertionError(f"non-finite number {token} in JSON: {response.text[:200]}")
    return json.loads(response.text, parse_constant=refuse)


async def new_session(client, **changes) -> dict:
    """POST /api/sessions with SMALL_NET changed by ``changes``; asserts 201."""
    response = await client.post("/api/sessions", json={**SMALL_NET, **changes})
    assert response.status_code == 201, response.text
    return strict_json(response)


def live_session(base: str) -> str:
    """A SMALL_NET session on the live server at ``base`` (host:port); its id (asserts 201)."""
    r = httpx.post(f"http://{base}/api/sessions", json=SMALL_NET, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def ws_json(ws, timeout: float = 10.0) -> dict:
    """The next WebSocket message, as JSON."""
    return json.loads(ws.recv(timeout=timeout))


def arr(tensor: dict) -> np.ndarray:
    """A JSON tensor as a float64 array, checking that its nesting matches its shape."""
    a = np.asarray(tensor["values"], dtype=np.float64)
    assert list(a.shape) == tensor["shape"], (a.shape, tensor["shape"])
    return a


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_done(client, job_id: str, timeout: float = 60.0) -> dict:
    """GET /api/compare/{id} until the job is no longer running; asserts it ends within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        job = strict_json(await client.get(f"/api/compare/{job_id}"))
        if job["status"] not in ("running", "cancelling"):
            return job
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.1)


async def answered_while_held(client, monkeypatch, module, name: str, path: str, during):
    """GET ``path`` while ``module.name`` (the work it does outside the session's lock) is held
    mid-way, and await ``during()`` meanwhile: (the GET's JSON, during's value). during() must
    finish while the work is held (it could not if the work held the session's lock)."""
    import threading

    import anyio
    started, go_on, real = threading.Event(), threading.Event(), getattr(module, name)

    def held(*args):
        started.set()
        assert go_on.wait(10), f"{during.__name__} never finished while {name} was held"
        return real(*args)

    monkeypatch.setattr(module, name, held)
    got = {}

    async def ask():
        got["answer"] = strict_json(await client.get(path))

    async with anyio.create_task_group() as tg:
        tg.start_soon(ask)
        while not started.is_set():
            await anyio.sleep(0.005)
        got["during"] = await during()
        go_on.set()
    return got["answer"], got["during"]

"""Whose sessions are whose (issue 11): a client lists only its own sessions, a page holds its
session while open and gives it back after it closed, a full server says what to do, an empty body
builds the default session, and DELETE stops a running epoch."""
from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from app_helpers import SMALL_NET
from websockets.sync.client import connect

from app.clients import COOKIE
from app.schemas import DEFAULT_SESSION
from app.settings import Settings


@pytest.mark.anyio
async def test_a_client_lists_only_its_own_sessions(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as alice, \
            httpx.AsyncClient(transport=transport, base_url="http://test") as bob:
        page = await alice.get("/")
        assert len(page.cookies[COOKIE]) == 32                       # the page gives its cookie
        mine = (await alice.post("/api/sessions", json=SMALL_NET)).json()["id"]
        made = await bob.post("/api/sessions", json=SMALL_NET)       # no cookie yet: set on create
        theirs = made.json()["id"]
        assert made.cookies[COOKIE] and made.cookies[COOKIE] != page.cookies[COOKIE]
        assert [s["id"] for s in (await alice.get("/api/sessions")).json()["sessions"]] == [mine]
        assert [s["id"] for s in (await bob.get("/api/sessions")).json()["sessions"]] == [theirs]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as stranger:
        assert (await stranger.get("/api/sessions")).json() == {"sessions": []}
        assert (await stranger.get(f"/api/sessions/{mine}")).status_code == 200   # the id is the capability
        health = (await stranger.get("/api/health")).json()
    assert health["sessions"] == 2 and health["max_sessions"] == app.state.settings.max_sessions
    assert mine not in json.dumps(health) and theirs not in json.dumps(health)


@pytest.mark.anyio
async def test_an_empty_body_builds_the_published_default_session(client):
    options = (await client.get("/api/options")).json()
    assert options["defaults"] == DEFAULT_SESSION
    for kwargs in ({"json": {}}, {}):
        made = await client.post("/api/sessions", **kwargs)
        assert made.status_code == 201, made.text
        config = made.json()["config"]
        assert config["dataset"] == DEFAULT_SESSION["dataset"] and config["batch_size"] == 16
        assert [(x["units"], x["activation"]) for x in config["layers"]] == [(8, "tanh"), (8, "tanh"), (2, "softmax")]
        assert config["optimizer"]["learning_rate"] == 0.1 and config["loss"] == "categorical_crossentropy"


@pytest.mark.anyio
@pytest.mark.parametrize("settings", [Settings(max_sessions=1)])
async def test_a_full_server_says_what_the_student_and_the_teacher_can_do(client):
    assert (await client.post("/api/sessions", json={})).status_code == 201
    full = await client.post("/api/sessions", json={})
    assert full.status_code == 503
    text = full.json()["detail"]
    assert "maximum of 1 training sessions" in text and "Close Backprop Lab tabs" in text
    assert "backprop-lab serve --max-sessions N" in text


@pytest.mark.parametrize("settings", [Settings(release_after_seconds=0.4)])
def test_a_closed_page_gives_its_session_back_and_a_reload_keeps_it(live_server):
    base = f"http://{live_server}"
    held, plain = (httpx.post(f"{base}/api/sessions", json=SMALL_NET).json()["id"] for _ in range(2))
    with connect(f"ws://{live_server}/ws/sessions/{held}?hold=1"):
        pass                                                           # a reload: closed ...
    with connect(f"ws://{live_server}/ws/sessions/{held}?hold=1") as ws:   # ... and back at once
        time.sleep(0.8)
        assert httpx.get(f"{base}/api/sessions/{held}").status_code == 200   # held: never released
        ws.send(json.dumps({"command": "step"}))
        assert json.loads(ws.recv(timeout=10))["data"]["step"] == 1
    with connect(f"ws://{live_server}/ws/sessions/{plain}"):            # a script's socket holds nothing
        pass
    time.sleep(0.8)
    assert httpx.get(f"{base}/api/sessions/{held}").status_code == 404   # the page closed: given back
    assert httpx.get(f"{base}/api/sessions/{plain}").status_code == 200
    assert httpx.get(f"{base}/api/health").json()["sessions"] == 1


@pytest.mark.parametrize("settings", [Settings(idle_expiry_seconds=0.0)])
def test_a_page_holding_its_session_keeps_it_past_the_idle_expiry(live_server, app):
    sid = httpx.post(f"http://{live_server}/api/sessions", json=SMALL_NET).json()["id"]
    with connect(f"ws://{live_server}/ws/sessions/{sid}?hold=1") as ws:
        ws.send(json.dumps({"command": "state"}))
        ws.recv(timeout=10)
        assert app.state.store.expire() == []
    time.sleep(0.2)
    assert app.state.store.expire() == [sid]


def test_delete_stops_a_running_epoch(live_server):
    base = f"http://{live_server}"
    big = {**SMALL_NET, "dataset": {"name": "spiral", "n_samples": 5000, "seed": 1}, "batch_size": 1,
           "layers": [{"units": 1024, "activation": "tanh"}, {"units": 1024, "activation": "tanh"},
                      {"units": 2, "activation": "softmax"}]}       # ~1 ms a batch: an epoch of seconds
    sid = httpx.post(f"{base}/api/sessions", json=big, timeout=30).json()["id"]
    answer = {}

    def epoch():
        start = time.monotonic()
        answer["response"] = httpx.post(f"{base}/api/sessions/{sid}/epoch", timeout=60)
        answer["seconds"] = time.monotonic() - start
    thread = threading.Thread(target=epoch)
    thread.start()
    deadline = time.monotonic() + 20
    while httpx.get(f"{base}/api/sessions/{sid}/progress").json()["batch"] < 10:    # the epoch runs
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert httpx.delete(f"{base}/api/sessions/{sid}").status_code == 204
    thread.join(timeout=30)
    response = answer["response"]
    assert response.status_code == 404 and "deleted while its epoch ran" in response.json()["detail"]
    steps = int(response.json()["detail"].split("step ")[1].split(")")[0])
    assert 0 < steps < 2500, steps             # stopped well before the epoch's 2,500 batches

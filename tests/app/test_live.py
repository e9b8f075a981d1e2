"""Against a real uvicorn on 127.0.0.1: the WebSocket (commands, play/pause) and `backprop-lab serve`."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import httpx
import numpy as np
from app_helpers import SMALL_NET, free_port
from websockets.sync.client import connect


def create(base: str, **changes) -> str:
    r = httpx.post(f"http://{base}/api/sessions", json={**SMALL_NET, **changes}, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def receive(ws, timeout: float = 10.0) -> dict:
    return json.loads(ws.recv(timeout=timeout))


def test_websocket_commands(live_server):
    sid = create(live_server)
    with connect(f"ws://{live_server}/ws/sessions/{sid}") as ws:
        ws.send(json.dumps({"command": "forward"}))
        forward = receive(ws)
        assert forward["type"] == "forward" and forward["data"]["phase"] == "forward"
        ws.send(json.dumps({"command": "update"}))
        error = receive(ws)
        assert error["type"] == "error" and error["status"] == 409
        ws.send(json.dumps({"command": "step"}))
        step = receive(ws)
        assert step["type"] == "step" and step["data"]["step"] == 1
        assert step["data"]["batch"]["indices"] == forward["data"]["batch"]["indices"]
        ws.send(json.dumps({"command": "options", "encoding": "b64", "layers": [3], "fields": ["a"]}))
        assert receive(ws)["type"] == "options"
        ws.send(json.dumps({"command": "step"}))
        compact = receive(ws)["data"]
        assert [e["index"] for e in compact["layers"]] == [3] and compact["layers"][0]["a"]["dtype"] == "float32le"
        ws.send(json.dumps({"command": "epoch"}))
        epoch = receive(ws)
        assert epoch["type"] == "epoch" and epoch["data"]["epoch"] == 1 and epoch["data"]["step"] == 25
        ws.send("not json")
        assert receive(ws)["status"] == 422
        ws.send(json.dumps({"command": "fly"}))
        assert receive(ws)["status"] == 422
    r = httpx.get(f"http://{live_server}/api/sessions/{sid}")
    assert r.json()["state"]["step"] == 25


def test_websocket_play_and_pause(live_server):
    sid = create(live_server)
    with connect(f"ws://{live_server}/ws/sessions/{sid}") as ws:
        ws.send(json.dumps({"command": "play", "speed": 200}))
        assert receive(ws)["type"] == "playing"
        frames = [receive(ws) for _ in range(5)]
        assert all(f["type"] == "frame" for f in frames)
        seqs = [f["seq"] for f in frames]
        assert seqs == sorted(seqs) and len(set(seqs)) == 5
        steps = [f["data"]["step"] for f in frames]
        assert steps == sorted(steps) and {"metrics", "batch_loss"} <= set(frames[-1]["data"]["state"])
        ws.send(json.dumps({"command": "step"}))              # manual commands wait for a pause
        while (message := receive(ws))["type"] == "frame":
            pass
        assert message["type"] == "error" and message["status"] == 409
        ws.send(json.dumps({"command": "pause"}))
        while (message := receive(ws))["type"] == "frame":
            pass
        assert message["type"] == "paused"
        paused_step = message["state"]["step"]
        time.sleep(0.2)
        state = httpx.get(f"http://{live_server}/api/sessions/{sid}").json()["state"]
        assert state["step"] == paused_step > steps[-1] - 1    # nothing ran after the pause
        ws.send(json.dumps({"command": "play", "speed": 5000}))
        assert receive(ws)["type"] == "error"                  # above max_play_speed


def test_websocket_slow_client_gets_newest_frames(live_server):
    sid = create(live_server)
    with connect(f"ws://{live_server}/ws/sessions/{sid}") as ws:
        ws.send(json.dumps({"command": "play"}))               # as fast as it can
        assert receive(ws)["type"] == "playing"
        first = receive(ws)
        time.sleep(0.5)                                        # a slow reader
        ws.send(json.dumps({"command": "pause"}))
        frames = []
        while (message := receive(ws))["type"] == "frame":
            frames.append(message)
        assert message["type"] == "paused"
        assert message["state"]["step"] - first["data"]["step"] > len(frames) + 10   # frames were dropped


def test_websocket_unknown_session(live_server):
    with connect(f"ws://{live_server}/ws/sessions/{'0' * 32}") as ws:
        message = receive(ws)
        assert message["type"] == "error" and message["status"] == 404


def test_backprop_lab_serve_answers(tmp_path):
    port = free_port()
    exe = shutil.which("backprop-lab")
    command = [exe] if exe else [sys.executable, "-m", "app.cli"]
    proc = subprocess.Popen([*command, "serve", "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
                            env={**os.environ, "NO_PROXY": "127.0.0.1"})
    try:
        first_line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}" in first_line
        deadline = time.monotonic() + 20
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "serve did not start"
                time.sleep(0.1)
        assert r.json()["status"] == "ok"
        r = httpx.post(f"http://127.0.0.1:{port}/api/sessions", json=SMALL_NET, timeout=10)
        assert r.status_code == 201
        assert httpx.get(f"http://127.0.0.1:{port}/docs").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_websocket_play_stops_by_itself_on_divergence(live_server):
    sid = create(live_server, dataset={"name": "plane", "n_samples": 200}, loss="mean_squared_error",
                 layers=[{"units": 8, "activation": "relu"}, {"units": 1}],
                 optimizer={"name": "sgd", "learning_rate": 100})
    with connect(f"ws://{live_server}/ws/sessions/{sid}") as ws:
        ws.send(json.dumps({"command": "play"}))
        assert receive(ws)["type"] == "playing"
        while (message := receive(ws))["type"] == "frame":
            pass
        assert message["type"] == "paused" and message["reason"] == "diverged"
        assert message["state"]["phase"] == "diverged" and message["state"]["diverged"]["quantity"]


def test_pause_after_quiet_steps_sends_a_frame_of_the_current_step(live_server):
    """Frames at most 2/s while the player trains flat out: most steps build none. After Pause the
    last frame is the current step (its W_updated are the weights the export holds)."""
    sid = create(live_server)
    with connect(f"ws://{live_server}/ws/sessions/{sid}") as ws:
        ws.send(json.dumps({"command": "options", "max_fps": 2}))
        assert receive(ws)["type"] == "options"
        ws.send(json.dumps({"command": "play"}))
        assert receive(ws)["type"] == "playing"
        first = receive(ws)
        time.sleep(0.8)
        ws.send(json.dumps({"command": "pause"}))
        last = first
        while (message := receive(ws))["type"] == "frame":
            last = message
        assert message["type"] == "paused" and message["reason"] == "paused"
    state = httpx.get(f"http://{live_server}/api/sessions/{sid}").json()["state"]
    assert last["data"]["step"] == message["state"]["step"] == state["step"] > first["data"]["step"] + 10
    weights = httpx.get(f"http://{live_server}/api/sessions/{sid}/export").json()["weights"]
    kernels = [np.asarray(w["values"]).reshape(w["shape"]) for w in weights[::2]]
    for entry, kernel in zip(last["data"]["layers"], kernels):
        np.testing.assert_allclose(np.asarray(entry["W_updated"]["values"]), kernel.T, rtol=1e-6)
        assert "dW_applied" in entry and "z" in entry and "delta" in entry

"""Binary WebSocket frames ({"command": "options", "encoding": "bin"}, app/wire.py): a JSON header
and the tensors' float32 bytes. They carry the numbers of the JSON frame of the same step (a second
session with the same seed, stepped alike), which the engine's rules recompute; never NaN."""
from __future__ import annotations

import json

import httpx
import numpy as np
import pytest
from app_helpers import SMALL_NET
from websockets.sync.client import connect

from app import wire
from app.frames import render_binary
from app.tensors import decode


def create(base: str, body=SMALL_NET) -> str:
    r = httpx.post(f"http://{base}/api/sessions", json=body, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def receive(ws):
    """The next message as (header, buffer): a binary one unpacked, a text one with buffer None."""
    raw = ws.recv(timeout=10)
    return wire.unpack(raw) if isinstance(raw, bytes) else (json.loads(raw), None)


def next_of(ws, kind: str):
    while (message := receive(ws))[0]["type"] != kind:
        pass
    return message


def command(ws, message: dict, kind: str):
    """Send ``message``; the answer of type ``kind``."""
    ws.send(json.dumps(message))
    return next_of(ws, kind)


def tensors(data: dict, buffer) -> dict[str, np.ndarray]:
    """Every tensor of a frame by its label (a binary frame's from its buffer, else JSON/b64)."""
    out = {}
    for entry in data["layers"]:
        for k, v in entry.items():
            if isinstance(v, dict) and "shape" in v:
                out[f"{k}{entry['index']}"] = wire.tensor(v, buffer) if buffer is not None else decode(v)
    out["x"] = wire.tensor(data["batch"]["x"], buffer) if buffer is not None else decode(data["batch"]["x"])
    return out


def test_a_binary_step_has_the_json_steps_numbers_and_the_rules_recompute_them(live_server):
    sid_json, sid_bin = create(live_server), create(live_server)
    with connect(f"ws://{live_server}/ws/sessions/{sid_json}") as a, \
            connect(f"ws://{live_server}/ws/sessions/{sid_bin}") as b:
        assert command(b, {"command": "options", "encoding": "bin"}, "options")[0]["encoding"] == "bin"
        for _ in range(3):
            plain, _ = command(a, {"command": "step"}, "step")
            head, buffer = command(b, {"command": "step"}, "step")
    assert buffer is not None and all(e.get("offset", 0) % 4 == 0 for layer in head["data"]["layers"]
                                      for e in layer.values() if isinstance(e, dict))
    mine, theirs = tensors(head["data"], buffer), tensors(plain["data"], None)
    assert mine.keys() == theirs.keys() and {"W1", "W_updated1", "z1", "a1", "delta1", "dW1"} <= mine.keys()
    for key in mine:
        np.testing.assert_array_equal(mine[key].astype(np.float64), theirs[key], err_msg=key)
    assert head["data"]["step"] == plain["data"]["step"] == 3 and head["data"]["loss"] == plain["data"]["loss"]
    # recomputed: z(2) = a(1)·W(1)ᵀ + b(1), a(2) = tanh z(2), and SGD's W(1) − η·∂cost/∂W(1)
    x, W, b = mine["x"].astype(np.float64), mine["W1"].astype(np.float64), mine["b1"].astype(np.float64)
    np.testing.assert_allclose(mine["z1"], x @ W.T + b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mine["a1"], np.tanh(mine["z1"].astype(np.float64)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mine["W_updated1"], W - 0.1 * mine["dW1"], rtol=1e-5, atol=1e-6)


def test_playing_in_binary_big_tensors_are_the_b64_int8_and_pause_is_whole(live_server):
    sid = create(live_server)
    with connect(f"ws://{live_server}/ws/sessions/{sid}") as ws:
        command(ws, {"command": "options", "encoding": "bin", "big": 20, "max_fps": 50}, "options")
        ws.send(json.dumps({"command": "play"}))
        frames = [next_of(ws, "frame") for _ in range(3)]
        assert all(buffer is not None for _, buffer in frames)      # binary messages
        ws.send(json.dumps({"command": "pause"}))
        while (message := receive(ws))[0]["type"] != "paused":
            last = message
        header = message[0]
    live, buf = frames[-1]
    layer2 = live["data"]["layers"][1]                 # 8×8 = 64 weights > big: lean and int8
    assert "W" not in layer2 and layer2["W_updated"]["dtype"] == "int8q"
    q = wire.tensor(layer2["W_updated"], buf)
    assert np.abs(q).max() == pytest.approx(127 * layer2["W_updated"]["scale"], rel=1e-6)
    head, buffer = last
    final = tensors(head["data"], buffer)
    assert head.get("final") is True and head["data"]["step"] == header["state"]["step"]
    assert head["data"]["layers"][1]["W_updated"]["dtype"] == "float32le" and "W2" in final
    weights = httpx.get(f"http://{live_server}/api/sessions/{sid}/export", timeout=30).json()["weights"]
    np.testing.assert_array_equal(final["W_updated2"], np.asarray(weights[2]["values"], np.float32).T)


def test_binary_frames_never_carry_nan_and_the_budget_still_holds():
    bad = np.array([[1.0, np.nan], [np.inf, 1e39]])          # 1e39 overflows float32
    frame = {"step": 1, "loss": float("nan"), "layers": [{"index": 1, "W": (bad, "W(1)"),
                                                          "b": (np.ones(2, np.float32), "b(1)")}]}
    head, buffer = render_binary(frame)
    W = head["layers"][0]["W"]
    assert head["loss"] is None and W["nonfinite"] is True and "nonfinite" not in head["layers"][0]["b"]
    np.testing.assert_array_equal(wire.tensor(W, buffer), [[1, 0], [0, 0]])
    assert np.isfinite(np.frombuffer(buffer, "<f4")).all()
    big = {"step": 1, "layers": [{"index": 1, "W": (np.ones((300, 300), np.float32), "W(1)"),
                                  "b": (np.ones(300, np.float32), "b(1)")}]}
    head, buffer = render_binary(big, budget=100_000)           # 360 KB as float32: W(1) summarised
    assert head["omitted"] == [{"label": "W(1)", "shape": [300, 300]}] and head["layers"][0]["W"]["omitted"]
    assert len(buffer) == 300 * 4
    roundtrip = wire.unpack(wire.pack(json.dumps(head).encode(), buffer))
    assert roundtrip[0] == head and bytes(roundtrip[1]) == buffer

"""Frames paced by the client ("ack"): while playing, the server sends at most two frames the client
has not reported drawn ({"command": "drawn"}); each "drawn" lets one more go. The page plays this
way, so the training builds no frame the page would drop (app/routes/ws.py, static/js/api.js)."""
from __future__ import annotations

import json

import httpx
import pytest
from app_helpers import live_session, ws_json
from websockets.sync.client import connect

from app.routes.ws import ACK_AHEAD, ACK_TIMEOUT

create, receive = live_session, ws_json


def frames_within(ws, seconds: float) -> list[dict]:
    """Every frame that arrives within ``seconds`` (other messages are not expected here)."""
    out = []
    while True:
        try:
            message = receive(ws, timeout=seconds)
        except TimeoutError:
            return out
        assert message["type"] == "frame", message
        out.append(message)


def test_with_ack_no_more_than_two_frames_wait_to_be_drawn(live_server):
    assert ACK_AHEAD == 2 and ACK_TIMEOUT >= 1.0
    sid = create(live_server)
    with connect(f"ws://{live_server}/ws/sessions/{sid}") as ws:
        ws.send(json.dumps({"command": "options", "ack": True, "max_fps": None}))
        options = receive(ws)
        assert options["type"] == "options" and options["ack"] is True and options["max_fps"] is None
        ws.send(json.dumps({"command": "play"}))
        assert receive(ws)["type"] == "playing"
        # Nothing drawn: two frames come, then none (within the 1 s fallback), though the player
        # trains on and unpaced frames would come as fast as the server builds them.
        first = [receive(ws), receive(ws)]
        assert [f["type"] for f in first] == ["frame", "frame"]
        assert frames_within(ws, 0.4) == []
        for _ in range(3):                                  # one "drawn", one more frame
            ws.send(json.dumps({"command": "drawn"}))
            more = receive(ws)
            assert more["type"] == "frame" and frames_within(ws, 0.4) == []
            assert more["data"]["step"] > first[-1]["data"]["step"]   # the newest step, not a queued one
            first.append(more)
        ws.send(json.dumps({"command": "pause"}))
        ws.send(json.dumps({"command": "drawn"}))
        while (message := receive(ws))["type"] == "frame":
            ws.send(json.dumps({"command": "drawn"}))
        assert message["type"] == "paused"
        state = httpx.get(f"http://{live_server}/api/sessions/{sid}").json()["state"]
        assert message["state"]["step"] == state["step"]


def test_without_ack_frames_keep_coming(live_server):
    sid = create(live_server)
    with connect(f"ws://{live_server}/ws/sessions/{sid}") as ws:
        ws.send(json.dumps({"command": "options", "max_fps": 50}))
        assert receive(ws)["ack"] is False
        ws.send(json.dumps({"command": "play"}))
        assert receive(ws)["type"] == "playing"
        assert len(frames_within(ws, 0.5)) >= 4           # 50 a second at most, never waiting for "drawn"
        ws.send(json.dumps({"command": "pause"}))


@pytest.mark.parametrize("value", [1, "yes", None, [True]])
def test_ack_must_be_a_boolean(live_server, value):
    sid = create(live_server)
    with connect(f"ws://{live_server}/ws/sessions/{sid}") as ws:
        ws.send(json.dumps({"command": "options", "ack": value}))
        message = receive(ws)
        assert message["type"] == "error" and message["status"] == 422 and "ack" in message["detail"]
        ws.send(json.dumps({"command": "drawn"}))          # harmless when not paced: no answer
        ws.send(json.dumps({"command": "state"}))
        assert receive(ws)["type"] == "state"

"""The WebSocket keeps its connection on any input (issue 12, item 11): each bad message gets
{"type": "error", "status": 422, ...} naming what is wrong, with no server traceback, and the
same connection then answers commands as before."""
from __future__ import annotations

import json
import logging

import httpx
import pytest
from app_helpers import SMALL_NET
from websockets.sync.client import connect

BAD = [    # (what is sent, a word the error's detail must hold)
    ('{"command": "options", "layers": ["x"]}', "layers"),
    ('{"command": "options", "layers": 5}', "layers"),
    ('{"command": "options", "layers": [true]}', "layers"),
    ('{"command": "options", "layers": [1e400]}', "layers"),
    ('{"command": "options", "layers": [100000000000000000000000]}', "layers"),
    ('{"command": "options", "fields": 5}', "fields"),
    ('{"command": "options", "fields": [1, 2]}', "fields"),
    ('{"command": "options", "big": 1e30}', "big"),
    ('{"command": "options", "max_fps": NaN}', "max_fps"),
    ('{"command": "options", "rows": 1e30}', "rows"),
    ('{"command": "options", "rows": -Infinity}', "rows"),
    ('{"command": "options", "rows": 0}', "rows"),
    ('{"command": "options", "rows": 1.5}', "rows"),
    ('{"command": "options", "rows": "3"}', "rows"),
    ('{"command": "options", "rows": true}', "rows"),
    ('{"command": "options", "rows": [3]}', "rows"),
    ('{"command": "options", "encoding": ["json"]}', "encoding"),
    ('{"command": "forward", "indices": "abc"}', "indices"),
    ('{"command": "forward", "indices": ["0"]}', "indices"),
    ('{"command": "forward", "indices": [true]}', "indices"),
    ('{"command": "forward", "indices": {"a": 1}}', "indices"),
    ('{"command": "forward", "indices": [0, 100000]}', "rows"),
    ('{"command": "\\ud800"}', "unknown command"),
    ('{"command": ["step"]}', "command"),
    ('{"command": {"x": 1}}', "command"),
    ('{"comand": "step"}', "command"),
    ('"step"', "command"),
    ("[]", "command"),
    ("5", "command"),
    ("[" * 100_000, "deep"),
    ('{"a": ' * 50_000 + "1" + "}" * 50_000, "deep"),
    ("not json", "JSON"),
    ('{"command": "play", "speed": true}', "speed"),
    ('{"command": "play", "speed": "fast"}', "speed"),
    ('{"command": "play", "speed": Infinity}', "speed"),
]


def _session(live_server) -> str:
    r = httpx.post(f"http://{live_server}/api/sessions", json=SMALL_NET)
    assert r.status_code == 201
    return r.json()["id"]


def _receive(ws) -> dict:
    text = ws.recv(timeout=10)
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"non-finite {c} in {text[:200]}"))


def test_each_bad_message_is_a_422_and_the_connection_stays_open(live_server, caplog):
    sid = _session(live_server)
    caplog.set_level(logging.ERROR)
    with connect(f"ws://{live_server}/ws/sessions/{sid}", max_size=None) as ws:
        for text, word in BAD:
            ws.send(text)
            answer = _receive(ws)
            assert answer["type"] == "error" and answer["status"] == 422, (text[:60], answer)
            assert word.lower() in json.dumps(answer["detail"]).lower(), (text[:60], answer)
        ws.send(b"\x00\x01binary")
        answer = _receive(ws)
        assert answer["type"] == "error" and answer["status"] == 422 and "binary" in answer["detail"]
        ws.send(json.dumps({"command": "step"}))          # the same connection still works
        step = _receive(ws)
        assert step["type"] == "step" and step["data"]["step"] == 1
        ws.send(json.dumps({"command": "options", "layers": [3], "fields": ["a"]}))
        assert _receive(ws) == {"type": "options", "encoding": "json", "layers": [3], "fields": ["a"],
                                "big": 10_000, "rows": None, "max_fps": 20.0, "ack": False}
        ws.send(json.dumps({"command": "forward", "indices": [0, 1]}))
        forward = _receive(ws)
        assert forward["type"] == "forward" and forward["data"]["batch"]["indices"] == [0, 1]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    state = httpx.get(f"http://{live_server}/api/sessions/{sid}").json()["state"]
    assert state["step"] == 1 and state["phase"] == "forward"


def test_a_surrogate_in_an_options_field_is_echoed_as_valid_utf8(live_server):
    sid = _session(live_server)
    with connect(f"ws://{live_server}/ws/sessions/{sid}") as ws:
        ws.send('{"command": "options", "fields": ["\\ud800"]}')
        answer = _receive(ws)
        assert answer["type"] == "options" and answer["fields"] == ["\ufffd"]
        ws.send(json.dumps({"command": "options", "fields": None}))
        assert _receive(ws)["fields"] is None
        ws.send(json.dumps({"command": "step"}))
        assert _receive(ws)["type"] == "step"

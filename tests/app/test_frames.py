"""Frames while playing: lean for big layers, int8 with a scale for big tensors (b64), full otherwise;
the fast JSON path writes the same JSON as the standard library."""
from __future__ import annotations

import json

import numpy as np
import pytest
from app_helpers import SMALL_NET

from app.frames import LEAN_DROP, render
from app.responses import dumps
from app.schemas import SessionCreate
from app.settings import Settings
from app.tensors import decode


def stepped(store):
    session = store.build(SessionCreate.model_validate(SMALL_NET))
    session.step()
    return session, session.step()


def test_play_frames_are_lean_and_quantized_for_big_layers(app):
    session, frame = stepped(app.state.store)
    full = json.loads(dumps(render(frame, "b64", raw=True)))
    lean = json.loads(dumps(render(frame, "b64", raw=True, big=50)))    # W(2) has 64 weights, W(1) 16
    one, two = lean["layers"][0], lean["layers"][1]
    assert set(one) == set(full["layers"][0])                          # small layer: everything
    assert one["W_updated"]["dtype"] == "float32le"
    assert not set(two) & LEAN_DROP and {"W_updated", "z", "a", "delta", "db"} <= set(two)
    q = two["W_updated"]
    assert q["dtype"] == "int8q" and q["shape"] == [8, 8]
    exact = decode(full["layers"][1]["W_updated"])
    assert np.abs(decode(q) - exact).max() <= q["scale"] / 2 + 1e-7
    assert np.abs(exact).max() == np.float32(127 * q["scale"])          # the scale spans the range
    asked = render(frame, "b64", fields={"dW", "W_updated"}, big=50)    # asked fields are sent
    assert {"dW", "W_updated"} <= set(asked["layers"][1]) and asked["layers"][1]["dW"]["dtype"] == "int8q"
    as_json = render(frame, "json", big=50)                             # JSON: lean but never int8
    assert isinstance(as_json["layers"][1]["W_updated"]["values"], list)


def test_the_fast_json_path_gives_the_same_answer_as_the_standard_library(app):
    session, frame = stepped(app.state.store)
    assert json.loads(dumps(render(frame, raw=True))) == json.loads(json.dumps(render(frame)))


def test_play_frames_always_carry_the_batch_whatever_the_network(app):
    """MNIST with a small net (784 inputs, 8 units): x (32 × 784) is bigger than ``big`` but the page
    draws it (the digits, a(1)), so lean frames send it, as int8 with b64."""
    session, frame = stepped(app.state.store)
    x = frame["batch"]["x"][0]
    lean = json.loads(dumps(render(frame, "b64", raw=True, big=x.size - 1)))
    np.testing.assert_allclose(decode(lean["batch"]["x"]), x, atol=np.abs(x).max() / 254 + 1e-7)
    assert {"indices", "y", "y_pred"} <= set(lean["batch"])


@pytest.mark.parametrize("settings", [Settings(play_lean_weights=123)])
def test_play_lean_threshold_is_the_settings_published_to_the_page(live_server):
    """The page reads limits.play_lean_weights to decide which fields to ask for; the socket uses the
    same number unless told otherwise."""
    import httpx
    from websockets.sync.client import connect
    assert httpx.get(f"http://{live_server}/api/options").json()["limits"]["play_lean_weights"] == 123
    sid = httpx.post(f"http://{live_server}/api/sessions", json=SMALL_NET).json()["id"]
    with connect(f"ws://{live_server}/ws/sessions/{sid}") as ws:
        ws.send(json.dumps({"command": "options"}))
        assert json.loads(ws.recv(timeout=10))["big"] == 123

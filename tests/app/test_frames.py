"""Frames while playing: lean for big layers, int8 with a scale for big tensors (b64), full otherwise;
the fast JSON path writes the same JSON as the standard library."""
from __future__ import annotations

import json

import numpy as np
from app_helpers import SMALL_NET

from app.frames import LEAN_DROP, render
from app.responses import dumps
from app.schemas import SessionCreate
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

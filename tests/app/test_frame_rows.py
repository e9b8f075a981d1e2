"""Play frames cut to the rows the page draws ("rows", app/frames.py cut_rows): of a layer with
more than ``big`` weights, W after the update and ∂cost/∂W carry their first rows only, with the
whole matrix's rows, norm and max |·|; everything else, and every other layer, is unchanged."""
from __future__ import annotations

import json

import numpy as np
import pytest
from app_helpers import SMALL_NET, live_session, ws_json
from websockets.sync.client import connect

from app.frames import render, render_binary
from app.responses import dumps
from app.schemas import SessionCreate
from app.tensors import decode


def stepped(store):
    session = store.build(SessionCreate.model_validate(SMALL_NET))
    session.step()
    return session.step(big=50)        # W(2) has 64 weights: lean; W(1) and W(3) 16


def test_a_big_layer_sends_its_first_rows_and_the_whole_matrix_numbers(app):
    frame = stepped(app.state.store)
    exact = {k: frame["layers"][1][k][0] for k in ("W_updated", "dW")}
    cut = json.loads(dumps(render(frame, "b64", raw=True, big=50, rows=3)))
    whole = json.loads(dumps(render(frame, "b64", raw=True, big=50)))
    two = cut["layers"][1]
    for key, full in exact.items():
        t = two[key]
        assert t["shape"] == [3, 8] and t["rows_of"] == 8
        np.testing.assert_array_equal(decode(t), full[:3])            # 24 entries: float32, exact
        assert t["norm"] == pytest.approx(float(np.sqrt(np.sum(full.astype(np.float64) ** 2))), rel=1e-6)
        assert t["max_abs"] == pytest.approx(float(np.abs(full).max()), rel=1e-7)
        assert t["norm"] > float(np.linalg.norm(full[:3]))            # the whole, not the rows sent
    for key in ("z", "a", "delta", "b_updated", "db"):                 # the rest of the layer: whole
        assert two[key] == whole["layers"][1][key]
    assert cut["layers"][0] == whole["layers"][0] and cut["layers"][2] == whole["layers"][2]
    assert cut["batch"] == whole["batch"]


@pytest.mark.parametrize("changes", [{"rows": None}, {"rows": 8}, {"rows": 20}, {"big": None},
                                     {"fields": {"W_updated", "dW"}}])
def test_nothing_is_cut_without_rows_a_lean_layer_or_with_fields(app, changes):
    """Rows that cover the matrix, no ``big`` (a whole frame: the last after Pause) or asked
    ``fields`` leave every tensor whole."""
    frame = stepped(app.state.store)
    args = {"big": 50, "rows": 3, **changes}
    got = render(frame, "b64", raw=True, **args)
    assert got["layers"][1]["W_updated"]["shape"] == [8, 8]
    assert "rows_of" not in got["layers"][1]["W_updated"]


def test_binary_frames_cut_the_same_rows(app):
    frame = stepped(app.state.store)
    head, buffer = render_binary(frame, big=50, rows=2)
    t = head["layers"][1]["dW"]
    assert t["shape"] == [2, 8] and t["rows_of"] == 8 and t["dtype"] == "float32le"
    values = np.frombuffer(buffer, "<f4", count=16, offset=t["offset"]).reshape(2, 8)
    np.testing.assert_array_equal(values, frame["layers"][1]["dW"][0][:2])


def test_a_frame_over_the_budget_summarises_the_cut_rows_and_keeps_the_whole_numbers(app):
    frame = stepped(app.state.store)
    got = render(frame, "b64", raw=True, big=50, rows=3, budget=200)
    omitted = {o["label"] for o in got["omitted"]}
    dW = got["layers"][1]["dW"]
    assert "∂cost/∂W(2)" in omitted
    assert dW["omitted"] and dW["shape"] == [3, 8] and dW["rows_of"] == 8 and dW["norm"] > 0
    assert json.loads(dumps(got))       # valid JSON, no NaN


create, receive = live_session, ws_json


def test_play_frames_carry_the_rows_asked_and_the_last_frame_is_whole(live_server):
    sid = create(live_server)
    with connect(f"ws://{live_server}/ws/sessions/{sid}") as ws:
        ws.send(json.dumps({"command": "options", "big": 50, "rows": 3, "max_fps": 50}))
        assert receive(ws)["rows"] == 3
        ws.send(json.dumps({"command": "play", "speed": 200}))
        assert receive(ws)["type"] == "playing"
        frame = receive(ws)
        assert frame["type"] == "frame"
        for key in ("W_updated", "dW"):
            t = frame["data"]["layers"][1][key]
            rows = np.asarray(t["values"], dtype=np.float64)
            assert t["shape"] == [3, 8] and t["rows_of"] == 8 and t["norm"] >= np.linalg.norm(rows)
        assert frame["data"]["layers"][0]["W_updated"]["shape"] == [8, 2]
        ws.send(json.dumps({"command": "pause"}))
        last = None
        while (message := receive(ws))["type"] != "paused":
            if message["type"] == "frame":
                last = message
        assert last is not None and last["data"]["layers"][1]["W_updated"]["shape"] == [8, 8]
        assert "rows_of" not in last["data"]["layers"][1]["dW"]
        ws.send(json.dumps({"command": "step"}))                     # answers are whole
        answer = receive(ws)
        assert answer["type"] == "step" and answer["data"]["layers"][1]["dW"]["shape"] == [8, 8]


def test_a_lean_layer_sends_the_norms_of_its_update_instead_of_the_update(app):
    """‖ΔW(2)‖ and ‖W(2)‖ before the update (the page's update ratio), recomputed from the weights
    before and after the step; the small layers send ΔW itself."""
    session = app.state.store.build(SessionCreate.model_validate(SMALL_NET))
    session.step()
    before = session.model.dense_layers[1].W.astype(np.float64)
    frame = session.step(big=50)
    after = session.model.dense_layers[1].W.astype(np.float64)
    got = json.loads(dumps(render(frame, "b64", raw=True, big=50)))["layers"]
    norms = got[1]["update_norms"]
    assert "dW_applied" not in got[1] and "W" not in got[1]
    assert norms["dW_applied"] == pytest.approx(np.linalg.norm(after - before), rel=1e-5)
    assert norms["W"] == pytest.approx(np.linalg.norm(before), rel=1e-6)
    assert "update_norms" not in got[0] and "dW_applied" in got[0]

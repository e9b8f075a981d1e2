"""No 500 on any input (issue 12, items 9, 10 and 13): lone surrogates, JSON nested thousands deep,
and booleans where numbers belong each get a 422 naming the field; the session is unchanged."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from app_helpers import SMALL_NET, new_session, strict_json

pytestmark = pytest.mark.anyio
JSON = {"content-type": "application/json"}


def _loc(response) -> list:
    assert response.status_code == 422, response.text
    return strict_json(response)["detail"][0]["loc"]


async def _unchanged(client, sid: str, before: dict) -> None:
    after = strict_json(await client.get(f"/api/sessions/{sid}"))
    assert after["config"] == before["config"] and after["state"] == before["state"]
    assert (await client.post(f"/api/sessions/{sid}/step")).status_code == 200


# --- item 9: a lone surrogate anywhere in a JSON string ------------------------------------------

SURROGATE = "\\ud800"        # as JSON text: the escape itself, which json.loads turns into U+D800


@pytest.mark.parametrize("body, loc", [
    ('{"layers": [{"units": 2, "activation": "%s"}]}', ["body", "layers", 0, "activation"]),
    ('{"dataset": {"name": "%s"}}', ["body", "dataset", "name"]),
    ('{"%s": 1}', ["body"]),                            # a key: pydantic names the object holding it
    ('{"dataset": {"name": "xor", "%s": 1}}', ["body", "dataset"]),
    ('{"loss": "%s"}', ["body", "loss"]),
])
async def test_a_lone_surrogate_in_a_new_session_is_a_422(client, body, loc):
    r = await client.post("/api/sessions", content=(body % SURROGATE).encode(), headers=JSON)
    assert _loc(r) == loc
    r.content.decode("utf-8")           # valid UTF-8 throughout


async def test_a_lone_surrogate_in_a_patch_or_a_compare_is_a_422(client):
    sid = (await new_session(client))["id"]
    before = strict_json(await client.get(f"/api/sessions/{sid}"))
    r = await client.patch(f"/api/sessions/{sid}", content=('{"optimizer": {"name": "%s"}}' % SURROGATE).encode(),
                           headers=JSON)
    assert _loc(r) == ["body", "optimizer", "name"]
    r = await client.patch(f"/api/sessions/{sid}", content=('{"optimizer": {"%s": 1}}' % SURROGATE).encode(),
                           headers=JSON)
    assert _loc(r)[:2] == ["body", "optimizer"]
    r = await client.post("/api/compare", content=('{"mode": "%s"}' % SURROGATE).encode(), headers=JSON)
    assert _loc(r) == ["body", "mode"]
    await _unchanged(client, sid, before)


# --- item 10: JSON nested thousands deep ---------------------------------------------------------

def _deep(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


async def test_an_npz_whose_config_is_nested_3000_deep_is_a_422(client):
    sid = (await new_session(client))["id"]
    before = strict_json(await client.get(f"/api/sessions/{sid}"))
    export = (await client.get(f"/api/sessions/{sid}/export?format=npz")).content
    with np.load(io.BytesIO(export)) as data:
        arrays = {name: data[name] for name in data.files}
    meta = json.loads(str(arrays["config"]))
    for text, loc in ((json.dumps(meta)[:-1] + ', "x": ' + _deep(3000) + "}", ["body", "config"]),
                      (json.dumps({**meta, "state": {"history": json.loads(_deep(900))}}),
                       ["body", "state", "history"])):
        buffer = io.BytesIO()
        np.savez(buffer, **{**arrays, "config": np.array(text)})
        r = await client.put(f"/api/sessions/{sid}/export", content=buffer.getvalue(),
                             headers={"content-type": "application/octet-stream"})
        assert _loc(r) == loc
    await _unchanged(client, sid, before)


async def test_json_bodies_nested_thousands_deep_are_422s(client):
    sid = (await new_session(client))["id"]
    before = strict_json(await client.get(f"/api/sessions/{sid}"))
    r = await client.put(f"/api/sessions/{sid}/export", content=_deep(3000).encode(), headers=JSON)
    assert _loc(r) == ["body"] and "deep" in r.text
    r = await client.post("/api/sessions", content=("[" * 100_000).encode(), headers=JSON)
    assert r.status_code == 422 and "deep" in r.text
    r = await client.post("/api/sessions", content=('{"dataset": {"name": "xor", "x": %s}}' % _deep(900)).encode(),
                          headers=JSON)
    assert r.status_code == 422 and len(r.content) < 20_000      # the echo of the input is cut short
    await _unchanged(client, sid, before)


# --- item 13: booleans are not numbers -----------------------------------------------------------

@pytest.mark.parametrize("change, loc", [
    ({"batch_size": True}, ["body", "batch_size"]),
    ({"seed": False}, ["body", "seed"]),
    ({"optimizer": {"name": "sgd", "learning_rate": True}}, ["body", "optimizer", "learning_rate"]),
    ({"layers": [{"units": True, "activation": "softmax"}]}, ["body", "layers", 0, "units"]),
    ({"layers": [{"units": 2, "activation": "softmax", "dropout": False}]}, ["body", "layers", 0, "dropout"]),
    ({"batch_size": "4"}, ["body", "batch_size"]),
])
async def test_booleans_are_refused_where_numbers_belong(client, change, loc):
    assert _loc(await client.post("/api/sessions", json={**SMALL_NET, **change})) == loc


async def test_integers_are_still_valid_floats(client):
    session = await new_session(client, optimizer={"name": "sgd", "learning_rate": 1})
    assert session["config"]["optimizer"]["learning_rate"] == 1
    sid = session["id"]
    r = await client.patch(f"/api/sessions/{sid}", json={"optimizer": {"learning_rate": 2}})
    assert r.status_code == 200, r.text


async def test_booleans_are_refused_in_patch_reset_compare_and_forward(client):
    sid = (await new_session(client))["id"]
    before = strict_json(await client.get(f"/api/sessions/{sid}"))
    assert _loc(await client.patch(f"/api/sessions/{sid}", json={"batch_size": True})) == ["body", "batch_size"]
    assert _loc(await client.patch(f"/api/sessions/{sid}", json={"optimizer": {"learning_rate": True}})) == \
        ["body", "optimizer", "learning_rate"]
    assert _loc(await client.post(f"/api/sessions/{sid}/reset", json={"weights": "new", "seed": True})) == \
        ["body", "seed"]
    for indices in (["0"], [True], [0, False]):
        r = await client.post(f"/api/sessions/{sid}/forward", json={"indices": indices})
        assert _loc(r)[:2] == ["body", "indices"]
    for body, loc in (({"epochs": True, "learning_rates": [0.1]}, ["body", "epochs"]),
                      ({"mode": "range_test", "min_lr": True}, ["body", "min_lr"]),
                      ({"mode": "range_test", "steps": True}, ["body", "steps"]),
                      ({"learning_rates": [True]}, ["body", "learning_rates", 0])):
        assert _loc(await client.post("/api/compare", json={**SMALL_NET, **body})) == loc
    await _unchanged(client, sid, before)
    r = await client.post(f"/api/sessions/{sid}/forward", json={"indices": [0, 1]})
    assert r.status_code == 200 and strict_json(r)["batch"]["indices"] == [0, 1]


async def test_a_body_that_is_not_utf8_is_a_422(client):
    """Found by the fuzzer: FastAPI answered its own 400 "error parsing the body" (undocumented)."""
    for path in ("/api/sessions", "/api/compare"):
        r = await client.post(path, content=b"\xff\xfe{", headers=JSON)
        assert _loc(r) == ["body"] and "UTF-8" in r.text

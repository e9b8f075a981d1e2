"""The fast lane for POST /step, /backward, /update gives the documented routes' answers, byte for byte,
and leaves every query it does not take (bad encoding, repeated or unknown parameter) to them."""
from __future__ import annotations

import numpy as np
import pytest
from app_helpers import new_session

from app.frames import render
from app.responses import dumps
from app.routes.fast_lane import LaneRoute, plain_query
from app.tensors import encode


@pytest.mark.parametrize("query, expected", [
    (b"", {}), (b"encoding=b64", {"encoding": "b64"}), (b"encoding=json&layers=1,2&fields=W,a",
                                                          {"encoding": "json", "layers": "1,2", "fields": "W,a"}),
    (b"layers=", {"layers": ""}), (b"encoding=bad", None), (b"encoding=", None), (b"layers=1&layers=2", None),
    (b"other=1", None)])
def test_the_lane_takes_only_queries_with_nothing_to_validate(query, expected):
    assert plain_query(query) == expected


@pytest.mark.anyio
@pytest.mark.parametrize("query", ["", "?encoding=b64", "?layers=2&fields=W,delta", "?encoding=b64&fields=z"])
async def test_lane_answers_equal_the_documented_routes(app, client, query):
    """Two sessions built alike: one stepped through the lane, one through FastAPI's route (an unknown
    parameter, which FastAPI ignores, sends the request there)."""
    answered = _count_lane(app)
    lane, api = (await new_session(client))["id"], (await new_session(client))["id"]
    extra = "&other=1" if query else "?other=1"
    for phase in ("step", "forward", "backward", "update", "step"):
        a = await client.post(f"/api/sessions/{lane}/{phase}{query}")
        b = await client.post(f"/api/sessions/{api}/{phase}{query}{extra}")
        assert a.status_code == b.status_code == 200, (a.text, b.text)
        assert a.headers["content-type"] == b.headers["content-type"]
        assert a.content.replace(lane.encode(), b"id") == b.content.replace(api.encode(), b"id")
    assert answered == [f"/api/sessions/{lane}/{p}" for p in ("step", "backward", "update", "step")]


def _count_lane(app) -> list[str]:
    """Wrap the lane's routes so that the paths they answer are recorded."""
    answered = []
    for route in app.router.routes:
        if isinstance(route, LaneRoute):
            async def counted(scope, receive, send, inner=route.app):
                answered.append(scope["path"])
                await inner(scope, receive, send)
            route.app = counted
    assert answered == [] and sum(isinstance(r, LaneRoute) for r in app.router.routes) == 3
    return answered


@pytest.mark.anyio
async def test_lane_errors_are_the_documented_ones(client):
    sid = (await new_session(client))["id"]
    missing = await client.post("/api/sessions/" + "0" * 32 + "/step")
    assert missing.status_code == 404
    order = await client.post(f"/api/sessions/{sid}/backward")
    assert order.status_code == 409 and "forward" in order.json()["detail"]
    for query, field in (("?layers=9", "layers"), ("?layers=x", "layers"), ("?encoding=xml", "encoding")):
        bad = await client.post(f"/api/sessions/{sid}/step{query}")
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", field], bad.text
    both = await client.post("/api/sessions/" + "0" * 32 + "/step?layers=x")   # the query is checked first
    assert both.status_code == 422
    assert (await client.get(f"/api/sessions/{sid}/step")).status_code == 405


def _one_by_one(frame: dict, encoding: str) -> bytes:
    """The frame with every tensor encoded by itself (what ``render`` gave before it batched them)."""
    def walk(value):
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], np.ndarray):
            return encode(value[0], value[1], encoding, raw=True)
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value
    return dumps(walk(frame))


@pytest.mark.parametrize("encoding", ["json", "b64"])
def test_batched_tensors_encode_as_one_by_one(encoding):
    rng = np.random.default_rng(0)
    frame = {"step": 3, "layers": [{"index": 1, "W": (rng.normal(size=(3, 2)).astype(np.float32), "W(1)"),
                                    "b": (rng.normal(size=3), "b(1)"), "none": (np.zeros((0, 2), np.float32), "e")}],
             "batch": {"indices": [4, 1], "x": (rng.normal(size=(2, 2)).astype(np.float32), "a(1)"),
                       "mask": (np.array([[True, False]]), "m"), "k": (np.arange(3), "k")}}
    assert dumps(render(frame, encoding, raw=True)) == _one_by_one(frame, encoding)
    frame["layers"][0]["W"][0][1, 0] = np.nan                       # one non-finite value: the guard
    frame["batch"]["x"][0][0, 1] = np.inf
    assert dumps(render(frame, encoding, raw=True)) == _one_by_one(frame, encoding)
    out = render(frame, encoding, raw=True)
    assert out["layers"][0]["W"]["nonfinite"] and out["batch"]["x"]["nonfinite"]

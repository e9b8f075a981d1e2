"""The lecture presets of /api/options: valid session bodies that train."""
from __future__ import annotations

import pytest
from app_helpers import strict_json

from app.schemas import PRESETS, SessionCreate

pytestmark = pytest.mark.anyio


async def test_presets_are_listed_and_valid(client):
    options = strict_json(await client.get("/api/options"))
    assert set(options["presets"]) == {"lecture_mnist", "lecture_figure"}
    for preset in PRESETS.values():
        SessionCreate(**preset["session"])                # a valid body
    mnist = PRESETS["lecture_mnist"]["session"]
    assert [layer["units"] for layer in mnist["layers"]] == [128, 64, 10] and mnist["batch_size"] == 128
    assert mnist["optimizer"] == {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9}


async def test_the_lecture_figure_trains(client):
    r = await client.post("/api/sessions", json=PRESETS["lecture_figure"]["session"])
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    first = strict_json(await client.post(f"/api/sessions/{sid}/epoch"))
    for _ in range(15):
        last = strict_json(await client.post(f"/api/sessions/{sid}/epoch"))
    assert len(first["layers"]) == 4 and last["loss"] < first["loss"]

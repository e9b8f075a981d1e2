"""GET .../training-health: too large a learning rate taught, with the numbers and a rate to try."""
from __future__ import annotations

import pytest
from app_helpers import SMALL_NET, new_session, strict_json

pytestmark = pytest.mark.anyio


async def test_a_healthy_run_has_no_warnings(client):
    sid = (await new_session(client, optimizer={"name": "sgd", "learning_rate": 0.05}))["id"]
    for _ in range(3):
        await client.post(f"/api/sessions/{sid}/epoch")
    report = strict_json(await client.get(f"/api/sessions/{sid}/training-health"))
    assert report["warnings"] == [] and report["suggested_learning_rate"] is None
    assert report["loss"]["window"] == 60 and report["learning_rate"] == 0.05


async def test_too_large_a_rate_is_named_with_numbers_and_a_smaller_one_suggested(client):
    sid = (await new_session(client, optimizer={"name": "sgd", "learning_rate": 8.0}))["id"]
    for _ in range(8):
        await client.post(f"/api/sessions/{sid}/epoch")
    report = strict_json(await client.get(f"/api/sessions/{sid}/training-health"))
    kinds = {w["kind"] for w in report["warnings"]}
    assert kinds & {"rising", "oscillating", "saturated"}, report
    for w in report["warnings"]:
        assert any(ch.isdigit() for ch in w["message"])
    assert "oscillating" in kinds and "saturated" in kinds
    assert report["suggested_learning_rate"] is not None and report["suggested_learning_rate"] < 8.0
    quick = strict_json(await client.get(f"/api/sessions/{sid}/training-health", params={"suggest": "false"}))
    assert quick["suggested_learning_rate"] is None and quick["warnings"] == report["warnings"]
    assert SMALL_NET["layers"][0]["activation"] == "tanh"

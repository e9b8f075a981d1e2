"""Find the bug over HTTP: plant (hidden), the gradient check points at the layer, guess, give up,
remove; other sessions train exactly as before; bad input is 409/422 naming the field."""
from __future__ import annotations

import pytest
from app_helpers import new_session, strict_json

pytestmark = pytest.mark.anyio
DEFAULT = {}          # POST /api/sessions {}: the default network (8 tanh, 8 tanh, 2 softmax on XOR)


async def session(client) -> str:
    response = await client.post("/api/sessions", json=DEFAULT)
    assert response.status_code == 201
    return response.json()["id"]


async def test_plant_hidden_check_points_at_layer_guess_and_reveal(client):
    sid = await session(client)
    planted = strict_json(await client.post(f"/api/sessions/{sid}/bug", json={"bug": "no_batch_mean", "layer": 2}))
    assert planted["planted"] and planted["revealed"] is None
    assert "no_batch_mean" not in str({k: v for k, v in planted.items() if k != "bugs"})
    assert [b["name"] for b in planted["bugs"]] == ["missing_f_prime", "no_batch_mean", "update_sign",
                                                   "softmax_chain", "transposed_W"]
    await client.post(f"/api/sessions/{sid}/step")
    check = strict_json(await client.post(f"/api/sessions/{sid}/gradient-check"))
    errors = {e["index"]: e["W"]["max_relative_error"] for e in check["layers"]}
    assert errors[2] > 1e-2 and errors[1] < 1e-6 and errors[3] < 1e-6, errors
    wrong = strict_json(await client.post(f"/api/sessions/{sid}/bug/guess", json={"bug": "update_sign"}))
    assert wrong["right"] is False and wrong["revealed"] is None and wrong["guesses"] == ["update_sign"]
    right = strict_json(await client.post(f"/api/sessions/{sid}/bug/guess", json={"bug": "no_batch_mean"}))
    assert right["right"] is True and right["revealed"]["layer"] == 2
    assert right["revealed"]["planted"] == "∂cost/∂W(2) = Σ δ(3)·a(2)ᵀ"
    removed = strict_json(await client.delete(f"/api/sessions/{sid}/bug"))
    assert removed["planted"] is False
    await client.post(f"/api/sessions/{sid}/step")
    check = strict_json(await client.post(f"/api/sessions/{sid}/gradient-check"))
    assert check["max_relative_error"] < 1e-6


async def test_random_bug_and_give_up(client):
    sid = await session(client)
    strict_json(await client.post(f"/api/sessions/{sid}/bug", json={"seed": 5}))
    status = strict_json(await client.get(f"/api/sessions/{sid}/bug"))
    assert status["planted"] and status["revealed"] is None
    shown = strict_json(await client.post(f"/api/sessions/{sid}/bug/give-up"))["revealed"]
    assert shown["bug"] in {b["name"] for b in status["bugs"]} and 1 <= shown["layer"] <= 3
    check = strict_json(await client.post(f"/api/sessions/{sid}/gradient-check"))
    errors = {e["index"]: e["max_relative_error"] for e in check["layers"]}
    assert errors[shown["layer"]] > 1e-2, (shown, errors)


async def test_other_sessions_train_exactly_as_before(client):
    buggy, other, twin = await session(client), await session(client), await session(client)
    await client.post(f"/api/sessions/{buggy}/bug", json={"bug": "update_sign", "layer": 1})
    for _ in range(5):
        for sid in (buggy, other):
            await client.post(f"/api/sessions/{sid}/step")
    for _ in range(5):
        await client.post(f"/api/sessions/{twin}/step")
    refused = await client.get(f"/api/sessions/{buggy}/export")
    assert refused.status_code == 409 and "planted bug" in refused.json()["detail"]
    assert (await client.delete(f"/api/sessions/{buggy}/bug")).status_code == 200     # the weights stay
    weights = [strict_json(await client.get(f"/api/sessions/{s}/export"))["weights"] for s in (buggy, other, twin)]
    assert weights[1] == weights[2] and weights[0] != weights[1]
    exported = strict_json(await client.get(f"/api/sessions/{buggy}/export"))         # without the bug: it imports
    assert (await client.put(f"/api/sessions/{buggy}/export", json=exported)).status_code == 200


async def test_the_planted_session_trains_uphill_and_its_timeline_replays_the_bug(client):
    sid = await session(client)
    await client.post(f"/api/sessions/{sid}/bug", json={"bug": "update_sign", "layer": 3})
    steps = [strict_json(await client.post(f"/api/sessions/{sid}/step")) for _ in range(400)]
    assert sum(s["loss"] for s in steps[-50:]) / 50 > 1.5 * sum(s["loss"] for s in steps[:20]) / 20
    seek = strict_json(await client.post(f"/api/sessions/{sid}/seek", json={"step": 30}))
    assert seek["step"] == steps[29]["step"] == 30
    assert seek["loss"] == steps[29]["loss"]           # replayed through the planted step, bit for bit


async def test_bad_requests(client):
    sid = await session(client)
    assert (await client.post("/api/sessions/nope/bug")).status_code == 404
    assert (await client.post(f"/api/sessions/{sid}/bug/guess", json={"bug": "update_sign"})).status_code == 409
    assert (await client.post(f"/api/sessions/{sid}/bug/give-up")).status_code == 409
    for body, field in (({"bug": "typo"}, "bug"), ({"bug": "transposed_W", "layer": 3}, "layer"),
                        ({"layer": 9}, "layer"), ({"bug": 3}, "bug")):
        response = await client.post(f"/api/sessions/{sid}/bug", json=body)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == field, response.text
    mse = (await new_session(client, loss="mean_squared_error"))["id"]
    response = await client.post(f"/api/sessions/{mse}/bug", json={"bug": "softmax_chain"})
    assert response.status_code == 422 and "softmax" in response.json()["detail"][0]["msg"]
    await client.post(f"/api/sessions/{sid}/forward")
    assert (await client.post(f"/api/sessions/{sid}/bug", json={})).status_code == 409
    await client.post(f"/api/sessions/{sid}/backward")
    await client.post(f"/api/sessions/{sid}/update")
    await client.post(f"/api/sessions/{sid}/bug", json={})
    response = await client.post(f"/api/sessions/{sid}/bug/guess", json={"bug": "nope"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "bug"]

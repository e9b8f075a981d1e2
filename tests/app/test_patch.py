"""PATCH /api/sessions/{id}: optimizer hyperparameters, another optimizer and the batch size change
without a reset (weights and step kept); the same optimizer keeps its state; bad fields get 422."""
from __future__ import annotations

import numpy as np
import pytest
from app_helpers import arr, new_session, strict_json

pytestmark = pytest.mark.anyio


async def weights_of(client, sid) -> list[np.ndarray]:
    exported = strict_json(await client.get(f"/api/sessions/{sid}/export"))
    return [arr(w) for w in exported["weights"]]


async def patch(client, sid, body) -> dict:
    r = await client.patch(f"/api/sessions/{sid}", json=body)
    assert r.status_code == 200, r.text
    return strict_json(r)


async def test_new_momentum_keeps_weights_and_the_velocity(client):
    sid = (await new_session(client, optimizer={"name": "sgd", "learning_rate": 0.1, "momentum": 0.9}))["id"]
    await client.post(f"/api/sessions/{sid}/step")
    second = strict_json(await client.post(f"/api/sessions/{sid}/step"))
    before = await weights_of(client, sid)
    patched = await patch(client, sid, {"optimizer": {"momentum": 0.5, "nesterov": False}})
    assert patched["state"]["step"] == 2 and patched["config"]["optimizer"]["momentum"] == 0.5
    assert patched["config"]["optimizer"]["learning_rate"] == 0.1
    changes = patched["changes"]
    assert changes["weights"] == "kept" and changes["optimizer"]["state"] == "kept"
    assert changes["optimizer"]["kept"] == ["momentum"] and changes["optimizer"]["iterations"] == 2
    assert "momentum" in changes["message"] and "step 2" in changes["message"]
    assert all(np.array_equal(a, b) for a, b in zip(await weights_of(client, sid), before))
    third = strict_json(await client.post(f"/api/sessions/{sid}/step"))
    for old, new in zip(second["layers"], third["layers"]):   # m ← 0.5·m − η·g, ΔW = m
        expected = 0.5 * arr(old["slots"]["momentum"]) - 0.1 * arr(new["dW"])
        np.testing.assert_allclose(arr(new["dW_applied"]), expected, rtol=1e-4, atol=1e-6)


async def test_momentum_from_zero_starts_a_velocity_and_nesterov_keeps_it(client):
    sid = (await new_session(client))["id"]                  # plain SGD: no slots
    await client.post(f"/api/sessions/{sid}/step")
    changes = (await patch(client, sid, {"optimizer": {"momentum": 0.9}}))["changes"]["optimizer"]
    assert changes["state"] == "kept" and changes["kept"] == [] and changes["started"] == ["momentum"]
    await client.post(f"/api/sessions/{sid}/step")
    changes = (await patch(client, sid, {"optimizer": {"nesterov": True}}))["changes"]["optimizer"]
    assert changes["kept"] == ["momentum"] and changes["iterations"] == 2


async def test_another_optimizer_keeps_weights_and_resets_its_state(client):
    sid = (await new_session(client, optimizer={"name": "sgd", "learning_rate": 0.1, "momentum": 0.9}))["id"]
    for _ in range(3):
        await client.post(f"/api/sessions/{sid}/step")
    before = await weights_of(client, sid)
    patched = await patch(client, sid, {"optimizer": {"name": "adam", "beta_1": 0.8}})
    assert patched["config"]["optimizer"] == {"name": "adam", "beta_1": 0.8, "learning_rate": 0.001}
    assert patched["state"]["step"] == 3 and patched["state"]["learning_rate"] == 0.001
    changes = patched["changes"]
    assert changes["optimizer"]["state"] == "reset" and changes["optimizer"]["iterations"] == 0
    assert "afresh" in changes["message"]
    assert all(np.array_equal(a, b) for a, b in zip(await weights_of(client, sid), before))
    step = strict_json(await client.post(f"/api/sessions/{sid}/step"))
    assert set(step["layers"][0]["slots"]) == {"m", "v"} and step["step"] == 4


async def test_batch_size_applies_from_the_next_batch(client):
    sid = (await new_session(client))["id"]                  # batch 4, 200 rows × train fraction
    await client.post(f"/api/sessions/{sid}/step")
    before = await weights_of(client, sid)
    patched = await patch(client, sid, {"batch_size": 10})
    assert patched["config"]["batch_size"] == 10 and patched["state"]["step"] == 1
    assert patched["changes"]["batch_size"] == {"from": 4, "to": 10, "applies": "from the next batch"}
    assert all(np.array_equal(a, b) for a, b in zip(await weights_of(client, sid), before))
    step = strict_json(await client.post(f"/api/sessions/{sid}/step"))
    assert len(step["batch"]["indices"]) == 10 and step["step"] == 2
    both = await patch(client, sid, {"batch_size": 5, "optimizer": {"learning_rate": 0.2}})
    assert both["state"]["learning_rate"] == 0.2 and both["config"]["batch_size"] == 5
    epoch = strict_json(await client.post(f"/api/sessions/{sid}/epoch"))
    assert epoch["epoch"] == 1


@pytest.mark.parametrize("body, loc, words", [
    ({"optimizer": {"momentum": 2}}, ("body", "optimizer", "momentum"), "[0.0, 1.0]"),
    ({"optimizer": {"nesterov": "yes"}}, ("body", "optimizer", "nesterov"), "true or false"),
    ({"optimizer": {"beta_1": 0.5}}, ("body", "optimizer", "beta_1"), "unknown hyperparameter of sgd"),
    ({"optimizer": {"name": "adam", "momentum": 0.5}}, ("body", "optimizer", "momentum"), "adam"),
    ({"optimizer": {"name": "nope"}}, ("body", "optimizer", "name"), "valid names"),
    ({"optimizer": {"learning_rate": 0}}, ("body", "optimizer", "learning_rate"), ""),
    ({"batch_size": 0}, ("body", "batch_size"), ""),
    ({"batch_size": 10**7}, ("body", "batch_size"), "at most"),
    ({"layers": []}, ("body", "layers"), ""),
    ({}, ("body",), "batch_size and/or regularization"),
])
async def test_bad_patches_name_the_field(client, body, loc, words):
    sid = (await new_session(client))["id"]
    r = await client.patch(f"/api/sessions/{sid}", json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert tuple(detail["loc"]) == loc and words in detail["msg"]
    assert strict_json(await client.get(f"/api/sessions/{sid}"))["config"]["batch_size"] == 4

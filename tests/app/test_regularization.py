"""L1, L2 and L1+L2 kernel penalties through the API: in the cost and in ∂cost/∂W, per network and
per layer, changed mid-session as a branch of the timeline."""
from __future__ import annotations

import numpy as np
import pytest
from app_helpers import SMALL_NET, arr, new_session, strict_json

from app import travel
from app.main import create_app
from app.schemas import SessionCreate

pytestmark = pytest.mark.anyio


async def _forward_backward(client, **changes):
    sid = (await new_session(client, **changes))["id"]
    fwd = strict_json(await client.post(f"/api/sessions/{sid}/forward"))
    back = strict_json(await client.post(f"/api/sessions/{sid}/backward"))
    return sid, fwd, back


@pytest.mark.parametrize("rates", [{"l2": 0.01}, {"l1": 0.02}, {"l1": 0.02, "l2": 0.01}])
async def test_the_penalty_is_in_the_cost_and_in_the_gradient(client, rates):
    _, plain_fwd, plain_back = await _forward_backward(client)
    _, fwd, back = await _forward_backward(client, regularization=rates)
    l1, l2 = rates.get("l1", 0.0), rates.get("l2", 0.0)
    weights = [arr(layer["W"]) for layer in fwd["layers"]]           # the same seed: the same W
    for w, same in zip(weights, plain_fwd["layers"]):
        np.testing.assert_array_equal(w, arr(same["W"]))
    penalty = sum(l1 * np.abs(w).sum() + l2 * (w ** 2).sum() for w in weights)
    assert fwd["penalty"] == pytest.approx(penalty, rel=1e-5)
    assert fwd["loss"] == pytest.approx(plain_fwd["loss"] + penalty, rel=1e-5)
    assert "penalty" not in plain_fwd
    for w, with_penalty, without in zip(weights, back["layers"], plain_back["layers"]):
        extra = arr(with_penalty["dW"]) - arr(without["dW"])
        np.testing.assert_allclose(extra, l1 * np.sign(w) + 2 * l2 * w, atol=1e-6)


async def test_a_layer_of_its_own_replaces_the_networks_penalty(client):
    layers = [{**SMALL_NET["layers"][0], "regularization": {"l1": 0.1}}, *SMALL_NET["layers"][1:]]
    _, fwd, back = await _forward_backward(client, layers=layers, regularization={"l2": 0.01})
    _, plain_fwd, plain_back = await _forward_backward(client)
    w = [arr(layer["W"]) for layer in fwd["layers"]]
    np.testing.assert_allclose(arr(back["layers"][0]["dW"]) - arr(plain_back["layers"][0]["dW"]),
                               0.1 * np.sign(w[0]), atol=1e-6)
    np.testing.assert_allclose(arr(back["layers"][1]["dW"]) - arr(plain_back["layers"][1]["dW"]),
                               2 * 0.01 * w[1], atol=1e-6)


async def test_bad_rates_are_refused_naming_the_field(client):
    r = await client.post("/api/sessions", json={**SMALL_NET, "regularization": {"l2": 2.0}})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-2:] == ["regularization", "l2"]
    layers = [{**SMALL_NET["layers"][0], "regularization": {"l1": -1}}, *SMALL_NET["layers"][1:]]
    r = await client.post("/api/sessions", json={**SMALL_NET, "layers": layers})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-4:] == ["layers", 0, "regularization", "l1"]
    r = await client.post("/api/sessions", json={**SMALL_NET, "regularization": {"l3": 0.1}})
    assert r.status_code == 422 and "l3" in r.text


def test_a_new_penalty_mid_session_is_a_branch_and_going_back_restores_the_old_one():
    s = create_app().state.store.build(SessionCreate(**SMALL_NET))
    for _ in range(6):
        s.step()
    s.set_regularization({"l2": 0.001})
    assert s.timeline.branch.changed == "penalty none → L2 0.001"
    assert s.config["regularization"] == {"l1": 0.0, "l2": 0.001}
    with_penalty = s.step()
    assert with_penalty["penalty"] > 0
    travel.seek(s, 6, branch=0)
    assert s.config["regularization"] is None and s.model.penalty() == 0.0
    plain = s.step()
    assert "penalty" not in plain and s.timeline.current == 0


async def test_patch_changes_the_penalty_from_the_next_step(client):
    sid = (await new_session(client))["id"]
    for _ in range(3):
        await client.post(f"/api/sessions/{sid}/step")
    r = await client.patch(f"/api/sessions/{sid}", json={"regularization": {"l2": 0.01}})
    assert r.status_code == 200, r.text
    body = strict_json(r)
    assert "penalty is L2 0.01 from the next step" in body["changes"]["message"]
    assert body["config"]["regularization"] == {"l1": 0.0, "l2": 0.01}
    fwd = strict_json(await client.post(f"/api/sessions/{sid}/forward"))
    w = [arr(layer["W"]) for layer in fwd["layers"]]
    assert fwd["penalty"] == pytest.approx(0.01 * sum((x ** 2).sum() for x in w), rel=1e-5)
    r = await client.patch(f"/api/sessions/{sid}", json={"regularization": {"l2": 0.0}})
    assert strict_json(r)["config"]["regularization"] is None
    r = await client.patch(f"/api/sessions/{sid}", json={"regularization": {"l2": -1}})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-2:] == ["regularization", "l2"]

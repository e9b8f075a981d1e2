"""A learning rate that blows the network up: phase diverged, 409 until reset, never NaN in JSON."""
from __future__ import annotations

import pytest
from app_helpers import new_session, strict_json

pytestmark = pytest.mark.anyio
REGRESSION = dict(dataset={"name": "plane", "n_samples": 200}, loss="mean_squared_error",
                  layers=[{"units": 8, "activation": "relu"}, {"units": 1, "activation": "linear"}],
                  optimizer={"name": "sgd", "learning_rate": 100})


async def test_diverging_epoch_then_409_until_reset(client):
    sid = (await new_session(client, **REGRESSION))["id"]
    r = await client.post(f"/api/sessions/{sid}/epoch")
    assert r.status_code == 200
    answer = strict_json(r)
    assert answer["phase"] == "diverged"
    where = answer["state"]["diverged"]
    assert {"step", "layer", "quantity"} <= set(where) and isinstance(where["quantity"], str)
    assert 0 <= where["step"] < 25
    for path in ("forward", "backward", "update", "step", "epoch"):
        r = await client.post(f"/api/sessions/{sid}/{path}")
        assert r.status_code == 409 and "reset" in r.json()["detail"], path
    for path in ("", "/history"):
        r = await client.get(f"/api/sessions/{sid}{path}")
        assert r.status_code == 200
        strict_json(r)                              # no NaN / Infinity anywhere
    state = strict_json(await client.get(f"/api/sessions/{sid}"))["state"]
    assert state["phase"] == "diverged" and state["diverged"] == where
    assert (await client.get(f"/api/sessions/{sid}/predict-grid")).status_code == 409
    assert (await client.get(f"/api/sessions/{sid}/export")).status_code == 409
    reset = strict_json(await client.post(f"/api/sessions/{sid}/reset"))
    assert reset["state"]["phase"] == "ready" and reset["state"]["diverged"] is None
    assert reset["state"]["step"] == 0
    await client.patch(f"/api/sessions/{sid}", json={"optimizer": {"learning_rate": 0.01}})
    fine = strict_json(await client.post(f"/api/sessions/{sid}/epoch"))
    assert fine["phase"] == "ready" and fine["epoch"] == 1 and fine["loss"] < 1.0


async def test_diverging_step_answers_200_with_state(client):
    sid = (await new_session(client, **REGRESSION))["id"]
    for _ in range(200):
        r = await client.post(f"/api/sessions/{sid}/step")
        assert r.status_code == 200
        answer = strict_json(r)
        if answer["phase"] == "diverged":
            break
    else:
        pytest.fail("lr 100 did not diverge in 200 steps")
    assert 0 <= answer["state"]["diverged"]["step"] <= answer["step"]
    assert "layers" not in answer                   # no tensors from a blown-up network
    assert (await client.post(f"/api/sessions/{sid}/step")).status_code == 409


def test_tensor_guard_replaces_non_finite_values():
    import numpy as np

    from app.tensors import encode, sanitize
    out = encode(np.array([[1.0, np.nan], [np.inf, -2.0]]), "z(2)")
    assert out["values"] == [[1.0, None], [None, -2.0]] and out["nonfinite"] is True
    assert sanitize({"a": [float("nan"), 1.5], "b": float("-inf")}) == {"a": [None, 1.5], "b": None}

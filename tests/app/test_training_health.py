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


@pytest.mark.parametrize("dead, warned", [(1, False), (3, True)])
def test_dead_units_are_a_warning_only_when_a_tenth_of_the_layer_is_dead(dead, warned):
    """One dead ReLU unit of 16 is no reason for a banner (nor for a smaller η); 3 of 16 are."""
    import numpy as np

    from app import training_health
    from app.schemas import SessionCreate
    from app.settings import Settings
    from app.store import SessionStore
    body = {**SMALL_NET, "layers": [{"units": 16, "activation": "relu"}, SMALL_NET["layers"][-1]]}
    session = SessionStore(Settings()).build(SessionCreate(**body))
    first = session.model.dense_layers[0]
    first.bias[:dead] = -1e4                  # z = w·x − 10⁴ < 0 for every sample: a = 0, dead
    report = training_health.report(session, suggest=False)
    layer = report["units"][0]
    x = session.data.x_train
    a = np.maximum(x @ first.kernel + first.bias, 0)       # recomputed: exactly these units are dead
    assert layer["dead"] == np.flatnonzero(np.all(a <= 0, axis=0)).tolist() == list(range(dead))
    assert [w["kind"] for w in report["warnings"] if w["kind"] == "dead"] == (["dead"] if warned else [])
    if warned:
        assert f"{dead} of 16 ReLU units of layer 2 are dead" in report["warnings"][0]["message"]

"""GET .../unit-maps: every input feature's and every unit's value over the input plane, recomputed
here from the session's own weights."""
from __future__ import annotations

import numpy as np
import pytest
from app_helpers import SMALL_NET, arr, new_session, strict_json

from engine.datasets.playground import make_features

pytestmark = pytest.mark.anyio


async def test_each_units_map_is_its_activation_over_the_plane(client):
    features = ["x1", "x2", "x1^2", "sin_x1"]
    dataset = {**SMALL_NET["dataset"], "features": features}
    sid = (await new_session(client, dataset=dataset))["id"]
    for _ in range(5):
        await client.post(f"/api/sessions/{sid}/step")
    answer = strict_json(await client.get(f"/api/sessions/{sid}/unit-maps", params={"resolution": 12}))
    weights = [arr(w) for w in (await client.get(f"/api/sessions/{sid}/export")).json()["weights"]]
    x1, x2 = np.array(answer["x1"]), np.array(answer["x2"])
    g1, g2 = np.meshgrid(x1, x2)
    a = make_features(np.stack([g1.ravel(), g2.ravel()], axis=1), features).astype(np.float64)
    assert [f["name"] for f in answer["features"]] == features
    for j, feature in enumerate(answer["features"]):
        np.testing.assert_allclose(arr(feature["map"]), a[:, j].reshape(12, 12), rtol=1e-6, atol=1e-6)
    acts = ["tanh", "tanh", "softmax"]
    for number, (layer, f) in enumerate(zip(answer["layers"], acts), start=1):
        z = a @ weights[2 * number - 2] + weights[2 * number - 1]
        a = np.tanh(z) if f == "tanh" else np.exp(z - z.max(1, keepdims=True)) / np.exp(
            z - z.max(1, keepdims=True)).sum(1, keepdims=True)
        maps = arr(layer["maps"])
        assert layer["index"] == number and layer["label"] == f"a({number + 1})" and maps.shape == (a.shape[1], 12, 12)
        np.testing.assert_allclose(maps, np.moveaxis(a.reshape(12, 12, -1), -1, 0), rtol=1e-4, atol=1e-5)
        assert layer["min"] == pytest.approx(maps.min()) and layer["max"] == pytest.approx(maps.max())


async def test_unit_maps_limits(client):
    sid = (await new_session(client))["id"]
    r = await client.get(f"/api/sessions/{sid}/unit-maps", params={"resolution": 100000})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "resolution"]
    b64 = strict_json(await client.get(f"/api/sessions/{sid}/unit-maps", params={"encoding": "b64"}))
    assert b64["layers"][0]["maps"]["dtype"] == "float32le" and b64["layers"][0]["maps"]["shape"] == [8, 32, 32]
    r = await client.get("/api/sessions/nope/unit-maps")
    assert r.status_code == 404

"""Every answer has a bounded size (issue 11): past ``max_answer_bytes`` the largest tensors come as
summaries, whose numbers are the tensors' own; small networks keep their plain JSON."""
from __future__ import annotations

import json

import numpy as np
import pytest
from app_helpers import SMALL_NET, strict_json

from app.settings import Settings

pytestmark = pytest.mark.anyio
WIDE = {**SMALL_NET, "dataset": {"name": "xor", "n_samples": 600, "seed": 0}, "batch_size": 128,
        "layers": [{"units": 256, "activation": "relu"}, {"units": 256, "activation": "relu"},
                   {"units": 2, "activation": "softmax"}]}
BUDGET = 400_000


@pytest.mark.parametrize("settings", [Settings(max_answer_bytes=BUDGET)])
@pytest.mark.parametrize("query", ["", "?encoding=b64"])
async def test_a_big_step_answer_is_cut_down_to_the_budget(client, query):
    sid = (await client.post("/api/sessions", json=WIDE)).json()["id"]
    r = await client.post(f"/api/sessions/{sid}/step{query}")
    assert r.status_code == 200 and len(r.content) <= BUDGET * 1.05, len(r.content)
    body = strict_json(r)
    assert body["omitted"] and "fields=" in body["hint"] and "encoding=b64" in body["hint"]
    second = body["layers"][1]                                   # W(2): 256 × 256, the largest
    assert second["W_updated"]["omitted"] and second["W_updated"]["shape"] == [256, 256]
    exported = (await client.get(f"/api/sessions/{sid}/export")).json()
    kernel = np.asarray(exported["weights"][2]["values"], dtype=np.float32)      # Keras layout of W(2)
    stats = second["W_updated"]["summary"]
    assert stats["min"] == float(kernel.min()) and stats["max"] == float(kernel.max())
    assert stats["mean"] == pytest.approx(float(kernel.mean(dtype=np.float64)), rel=1e-6)
    assert {"label": "W(2)", "shape": [256, 256]} in body["omitted"]
    assert "values" in body["layers"][2]["W_updated"]              # the small output layer is whole
    whole = await client.post(f"/api/sessions/{sid}/step?fields=W_updated&layers=2&encoding=b64")
    assert "values" in whole.json()["layers"][0]["W_updated"]      # asked for less: it fits, in full


async def test_small_networks_keep_their_plain_json(client):
    sid = (await client.post("/api/sessions", json=SMALL_NET)).json()["id"]
    body = (await client.post(f"/api/sessions/{sid}/step")).json()
    assert "omitted" not in body and "omitted" not in json.dumps(body)

"""Export then import continues exactly (issue 11): step, epoch, curves, optimizer state, the epoch's
batch order and the dropout masks come back, as JSON and as .npz, also from the middle of a cycle."""
from __future__ import annotations

import numpy as np
import pytest
from app_helpers import SMALL_NET

from app.settings import Settings

pytestmark = pytest.mark.anyio

NET = {**SMALL_NET, "dataset": {"name": "spiral", "n_samples": 90, "seed": 1}, "batch_size": 7,
       "layers": [{"units": 8, "activation": "tanh", "dropout": 0.25}, {"units": 8, "activation": "relu"},
                  {"units": 2, "activation": "softmax"}],
       "optimizer": {"name": "adam", "learning_rate": 0.01}}


async def _steps(client, sid, n):
    for _ in range(n):
        r = await client.post(f"/api/sessions/{sid}/step")
        assert r.status_code == 200, r.text
    return r.json()


async def _history(client, sid):
    return (await client.get(f"/api/sessions/{sid}/history")).json()["history"]


async def _weights(client, sid):
    ex = (await client.get(f"/api/sessions/{sid}/export")).json()
    return [np.asarray(w["values"]) for w in ex["weights"]]


@pytest.mark.parametrize("fmt", ["json", "npz"])
@pytest.mark.parametrize("mid_cycle", [False, True])
async def test_an_imported_session_continues_exactly(client, fmt, mid_cycle):
    a = (await client.post("/api/sessions", json=NET)).json()["id"]
    b = (await client.post("/api/sessions", json={**NET, "seed": 5})).json()["id"]
    await _steps(client, a, 23)                      # epoch 3 of 7-row batches over 45 rows, mid-epoch
    if mid_cycle:
        assert (await client.post(f"/api/sessions/{a}/forward")).status_code == 200
    exported = await client.get(f"/api/sessions/{a}/export", params={"format": fmt})
    if fmt == "json":
        r = await client.put(f"/api/sessions/{b}/export", json=exported.json())
    else:
        r = await client.put(f"/api/sessions/{b}/export", content=exported.content,
                             headers={"content-type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    state = r.json()["state"]
    assert (state["step"], state["epoch"], state["batch"], state["phase"]) == (23, 3, 2, "ready")
    ha, hb = [await _history(client, s) for s in (a, b)]
    assert hb == ha and len(ha["batch_loss"]) == 23                   # the curves came along
    if mid_cycle:                                                      # the exported one finishes its cycle
        await client.post(f"/api/sessions/{a}/backward")
        await client.post(f"/api/sessions/{a}/update")
        await _steps(client, b, 1)
    last_a, last_b = await _steps(client, a, 17), await _steps(client, b, 17)
    assert last_a["batch"]["indices"] == last_b["batch"]["indices"]       # the same batches in order
    for wa, wb in zip(await _weights(client, a), await _weights(client, b)):
        np.testing.assert_array_equal(wa, wb)                           # dropout, Adam's slots: bit for bit
    ha, hb = [await _history(client, s) for s in (a, b)]
    assert ha == hb


async def test_a_bad_state_is_a_422_naming_the_field(client):
    a = (await client.post("/api/sessions", json=NET)).json()["id"]
    await _steps(client, a, 3)
    exported = (await client.get(f"/api/sessions/{a}/export")).json()
    cases = [(("state", "step"), -1, "state.step"), (("state", "schedule", "position"), 10_000, "state.schedule.position"),
             (("state", "history", "nope"), [1.0], "state.history"), (("state", "rng", "shuffle"), {"x": 1}, "state.rng.shuffle")]
    for path, value, field in cases:
        body = __import__("copy").deepcopy(exported)
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        r = await client.put(f"/api/sessions/{a}/export", json=body)
        assert r.status_code == 422, (field, r.text)
        assert ".".join(map(str, r.json()["detail"][0]["loc"][1:])) == field
    order = __import__("copy").deepcopy(exported)
    order["arrays"]["schedule_order"]["values"][0] = order["arrays"]["schedule_order"]["values"][1]
    r = await client.put(f"/api/sessions/{a}/export", json=order)
    assert r.status_code == 422 and "permutation" in r.text
    assert (await client.get(f"/api/sessions/{a}")).json()["state"]["step"] == 3     # nothing was lost


@pytest.mark.parametrize("settings", [Settings(max_total_params=300)])
async def test_an_import_keeps_to_the_servers_total_parameter_cap(client):
    tiny = {**NET, "layers": [{"units": 2, "activation": "softmax"}]}                       # 6 weights
    big = {**NET, "layers": [{"units": 12, "activation": "tanh"}, {"units": 12, "activation": "tanh"},
                             {"units": 2, "activation": "softmax"}]}                        # 218 weights
    made = (await client.post("/api/sessions", json=big)).json()["id"]
    exported = (await client.get(f"/api/sessions/{made}/export")).json()
    a, _ = [(await client.post("/api/sessions", json=tiny)).json()["id"] for _ in range(2)]
    r = await client.put(f"/api/sessions/{a}/export", json=exported)        # 218 + 6 + 218 > 300
    assert r.status_code == 503 and "--max-total-params" in r.json()["detail"]
    assert (await client.get(f"/api/sessions/{a}")).json()["config"]["layers"][0]["units"] == 2   # unchanged
    await client.delete(f"/api/sessions/{made}")
    r = await client.put(f"/api/sessions/{a}/export", json=exported)        # 6 + 218: it fits
    assert r.status_code == 200 and r.json()["config"]["layers"][0]["units"] == 12


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "adagrad", "adadelta", "sgd"])
async def test_an_export_before_the_first_step_imports(client, optimizer):
    net = {**NET, "optimizer": {"name": optimizer}}
    a = (await client.post("/api/sessions", json=net)).json()["id"]
    b = (await client.post("/api/sessions", json=net)).json()["id"]
    r = await client.put(f"/api/sessions/{b}/export", json=(await client.get(f"/api/sessions/{a}/export")).json())
    assert r.status_code == 200, r.text
    await _steps(client, a, 5)
    await _steps(client, b, 5)
    for wa, wb in zip(await _weights(client, a), await _weights(client, b)):
        np.testing.assert_array_equal(wa, wb)

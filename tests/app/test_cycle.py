"""The two-phase cycle over HTTP, checking the numbers themselves with NumPy."""
from __future__ import annotations

import numpy as np
import pytest
from app_helpers import arr, new_session, strict_json

pytestmark = pytest.mark.anyio
TOL = dict(rtol=1e-4, atol=1e-5)     # the engine computes in float32


def tanh_prime(a):
    return 1.0 - a ** 2


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


async def test_forward_backward_update_numbers(client):
    sid = (await new_session(client))["id"]
    fwd = strict_json(await client.post(f"/api/sessions/{sid}/forward"))
    assert fwd["phase"] == "forward" and fwd["step"] == 0
    x, y = arr(fwd["batch"]["x"]), arr(fwd["batch"]["y"])
    assert x.shape == (4, 2) and y.shape == (4, 2) and np.all(y.sum(axis=1) == 1)   # one-hot rows
    assert [layer["index"] for layer in fwd["layers"]] == [1, 2, 3]
    assert fwd["layers"][0]["W"]["label"] == "W(1)" and fwd["layers"][0]["z"]["label"] == "z(2)"
    a_prev = x
    for layer in fwd["layers"]:
        W, b, z, a = arr(layer["W"]), arr(layer["b"]), arr(layer["z"]), arr(layer["a"])
        assert W.shape == (z.shape[1], a_prev.shape[1])          # (units_out, units_in)
        np.testing.assert_allclose(z, a_prev @ W.T + b, **TOL)   # z = a·Wᵀ + b
        np.testing.assert_allclose(a, np.tanh(z) if layer["activation"] == "tanh" else softmax(z), **TOL)
        a_prev = a
    y_hat = a_prev
    assert fwd["loss"] == pytest.approx(np.mean(-np.sum(y * np.log(y_hat), axis=1)), rel=1e-4)

    bwd = strict_json(await client.post(f"/api/sessions/{sid}/backward"))
    assert bwd["phase"] == "backward" and [e["index"] for e in bwd["layers"]] == [1, 2, 3]
    deltas = [arr(e["delta"]) for e in bwd["layers"]]
    np.testing.assert_allclose(deltas[2], y_hat - y, **TOL)                      # δ(L) = ŷ − y
    for l in (1, 0):                                                            # δ(l) = δ(l+1)·W ⊙ f′(z)
        W_next = arr(fwd["layers"][l + 1]["W"])
        a_l = arr(fwd["layers"][l]["a"])
        np.testing.assert_allclose(deltas[l], (deltas[l + 1] @ W_next) * tanh_prime(a_l), **TOL)
    inputs = [x, arr(fwd["layers"][0]["a"]), arr(fwd["layers"][1]["a"])]
    for entry, delta, a_in in zip(bwd["layers"], deltas, inputs):
        np.testing.assert_allclose(arr(entry["dW"]), delta.T @ a_in / 4, **TOL)  # dW = δᵀa / batch
        np.testing.assert_allclose(arr(entry["db"]), delta.mean(axis=0), **TOL)

    upd = strict_json(await client.post(f"/api/sessions/{sid}/update"))
    assert upd["phase"] == "ready" and upd["step"] == 1 and upd["state"]["step"] == 1
    for before, grads, after in zip(fwd["layers"], bwd["layers"], upd["layers"]):
        W_old, W_new = arr(before["W"]), arr(after["W"])
        np.testing.assert_allclose(W_new, W_old - 0.1 * arr(grads["dW"]), **TOL)   # SGD: W − lr·dW
        np.testing.assert_allclose(arr(after["dW_applied"]), W_new - W_old, **TOL)
        np.testing.assert_allclose(arr(after["b"]), arr(before["b"]) - 0.1 * arr(grads["db"]), **TOL)


async def test_step_returns_all_phases_and_momentum_rule(client):
    sid = (await new_session(client, optimizer={"name": "sgd", "learning_rate": 0.05, "momentum": 0.9}))["id"]
    first = strict_json(await client.post(f"/api/sessions/{sid}/step"))
    second = strict_json(await client.post(f"/api/sessions/{sid}/step"))
    assert second["step"] == 2 and second["phase"] == "ready"
    for one, two in zip(first["layers"], second["layers"]):
        assert {"W", "b", "z", "a", "delta", "dW", "db", "dW_applied", "W_updated"} <= set(two)
        np.testing.assert_allclose(arr(two["W"]), arr(one["W_updated"]), **TOL)   # next forward uses them
        v1 = -0.05 * arr(one["dW"])                                  # Keras: v = μv − lr·g; W += v
        v2 = 0.9 * v1 - 0.05 * arr(two["dW"])
        np.testing.assert_allclose(arr(two["dW_applied"]), v2, **TOL)
        np.testing.assert_allclose(arr(two["W_updated"]), arr(two["W"]) + v2, **TOL)


async def test_out_of_order_answers_409(client):
    sid = (await new_session(client))["id"]
    for path in ("backward", "update"):
        r = await client.post(f"/api/sessions/{sid}/{path}")
        assert r.status_code == 409 and "forward" in r.json()["detail"]
    assert (await client.post(f"/api/sessions/{sid}/forward")).status_code == 200
    assert (await client.post(f"/api/sessions/{sid}/forward")).status_code == 409
    assert (await client.post(f"/api/sessions/{sid}/update")).status_code == 409
    assert (await client.post(f"/api/sessions/{sid}/backward")).status_code == 200
    assert (await client.post(f"/api/sessions/{sid}/backward")).status_code == 409
    assert (await client.post(f"/api/sessions/{sid}/update")).status_code == 200
    assert (await client.post(f"/api/sessions/{sid}/update")).status_code == 409


async def test_step_finishes_a_half_done_cycle(client):
    sid = (await new_session(client))["id"]
    fwd = strict_json(await client.post(f"/api/sessions/{sid}/forward"))
    step = strict_json(await client.post(f"/api/sessions/{sid}/step"))
    assert step["step"] == 1 and step["batch"]["indices"] == fwd["batch"]["indices"]
    np.testing.assert_allclose(arr(step["layers"][0]["z"]), arr(fwd["layers"][0]["z"]))
    nxt = strict_json(await client.post(f"/api/sessions/{sid}/forward"))
    assert nxt["batch"]["indices"] != fwd["batch"]["indices"]


async def test_chosen_indices_are_a_one_off_batch(client):
    sid = (await new_session(client))["id"]
    sid2 = (await new_session(client))["id"]
    one_off = strict_json(await client.post(f"/api/sessions/{sid}/forward", json={"indices": [3, 0, 7]}))
    assert one_off["batch"]["indices"] == [3, 0, 7] and one_off["batch"]["x"]["shape"] == [3, 2]
    await client.post(f"/api/sessions/{sid}/backward")
    await client.post(f"/api/sessions/{sid}/update")
    a = strict_json(await client.post(f"/api/sessions/{sid}/forward"))
    b = strict_json(await client.post(f"/api/sessions/{sid2}/forward"))
    assert a["batch"]["indices"] == b["batch"]["indices"]       # the epoch's batch order is untouched
    bad = await client.post(f"/api/sessions/{sid2}/forward", json={"indices": [10_000]})
    assert bad.status_code == 409   # phase forward already; indices checked only when a forward may run


async def test_epoch_runs_the_rest_and_matches_history(client):
    sid = (await new_session(client))["id"]
    await client.post(f"/api/sessions/{sid}/step")
    await client.post(f"/api/sessions/{sid}/forward")            # half-done cycle: finished, not dropped
    result = strict_json(await client.post(f"/api/sessions/{sid}/epoch"))
    assert result["epoch"] == 1 and result["step"] == 25          # 100 training rows / batch 4
    assert {"loss", "acc", "val_loss", "val_acc"} <= set(result)
    second = strict_json(await client.post(f"/api/sessions/{sid}/epoch"))
    assert second["epoch"] == 2 and second["step"] == 50
    hist = strict_json(await client.get(f"/api/sessions/{sid}/history"))["history"]
    assert hist["loss"] == [result["loss"], second["loss"]] and hist["val_acc"][1] == second["val_acc"]
    assert len(hist["batch_loss"]) == 50
    assert np.mean(hist["batch_loss"][25:]) == pytest.approx(second["loss"], rel=1e-5)  # equal batches


async def test_regression_epoch_reports_mae(client):
    sid = (await new_session(client, dataset={"name": "plane", "n_samples": 100},
                             layers=[{"units": 4, "activation": "relu"}, {"units": 1}], loss=None,
                             optimizer={"name": "adam", "learning_rate": 0.01}))["id"]
    result = strict_json(await client.post(f"/api/sessions/{sid}/epoch"))
    assert {"loss", "mae", "val_loss", "val_mae"} <= set(result) and "acc" not in result
    fwd = strict_json(await client.post(f"/api/sessions/{sid}/forward"))
    assert fwd["batch"]["y"]["shape"] == [4, 1]


async def test_b64_encoding_and_field_filter(client):
    import base64

    def b64(tensor):
        raw = np.frombuffer(base64.b64decode(tensor["values"]), dtype="<f4")
        return raw.reshape(tensor["shape"]).astype(np.float64)

    sid = (await new_session(client))["id"]
    full = strict_json(await client.post(f"/api/sessions/{sid}/forward", json={"indices": [1, 2]}))
    await client.post(f"/api/sessions/{sid}/step")
    small = strict_json(await client.post(f"/api/sessions/{sid}/forward?encoding=b64&layers=1&fields=W,b,z",
                                          json={"indices": [1, 2]}))
    (layer,) = small["layers"]
    assert layer["index"] == 1 and set(layer) == {"index", "name", "activation", "W", "b", "z"}
    assert layer["W"]["dtype"] == "float32le" and layer["W"]["label"] == "W(1)"
    W, b, z = b64(layer["W"]), b64(layer["b"]), b64(layer["z"])
    assert W.shape == (8, 2) and not np.allclose(W, arr(full["layers"][0]["W"]))   # updated by /step
    np.testing.assert_allclose(z, arr(full["batch"]["x"]) @ W.T + b, **TOL)


async def test_epoch_answer_holds_its_last_minibatch(client):
    """After /epoch the page shows where training ended: the last batch's z, a, δ with the W its forward
    pass used, and W_updated equal to the session's weights now (the next forward uses them)."""
    sid = (await new_session(client))["id"]
    result = strict_json(await client.post(f"/api/sessions/{sid}/epoch"))
    assert len(result["batch"]["indices"]) == 4 and [e["index"] for e in result["layers"]] == [1, 2, 3]
    a_prev = arr(result["batch"]["x"])
    for entry in result["layers"]:
        W, b, z = arr(entry["W"]), arr(entry["b"]), arr(entry["z"])
        np.testing.assert_allclose(z, a_prev @ W.T + b, **TOL)          # z from the W before the update
        assert {"delta", "dW", "db", "W_updated", "b_updated"} <= set(entry)
        assert entry["W_updated"]["label"] == f"W({entry['index']})"
        a_prev = arr(entry["a"])
    nxt = strict_json(await client.post(f"/api/sessions/{sid}/forward"))
    for entry, after in zip(result["layers"], nxt["layers"]):
        np.testing.assert_allclose(arr(entry["W_updated"]), arr(after["W"]), **TOL)

"""Contract edge cases: non-finite JSON literals in a request, sparse labels over HTTP, a sparse loss
on a regression set, the batch count after the batch size changes mid-epoch."""
from __future__ import annotations

import numpy as np
import pytest
from app_helpers import SMALL_NET, arr, new_session, strict_json

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("body, loc", [
    (b'{"dataset": {"name": "spiral"}, "layers": [{"units": 2, "activation": "softmax"}], "seed": NaN}',
     ["body", "seed"]),
    (b'{"dataset": {"name": "spiral"}, "layers": [{"units": 2, "activation": "softmax"}],'
     b' "optimizer": {"name": "sgd", "learning_rate": Infinity}}', ["body", "optimizer", "learning_rate"]),
    (b'{"dataset": {"name": "spiral"}, "layers": [{"units": 2, "activation": "softmax", "dropout": -Infinity}]}',
     ["body", "layers", 0, "dropout"]),
])
async def test_nan_and_infinity_literals_get_422_in_valid_json(client, body, loc):
    """Python's JSON parser accepts NaN/Infinity; the 422 echoes the input, which must not break the JSON."""
    response = await client.post("/api/sessions", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    detail = strict_json(response)["detail"][0]
    assert detail["loc"] == loc


async def test_nan_in_forward_indices_gets_422(client):
    session = await new_session(client)
    response = await client.post(f"/api/sessions/{session['id']}/forward", content=b'{"indices": [NaN]}',
                                 headers={"content-type": "application/json"})
    assert response.status_code == 422
    strict_json(response)


async def test_sparse_loss_sends_one_hot_targets_and_delta_is_y_hat_minus_y(client):
    """Classification targets over HTTP are one-hot rows whatever the loss; softmax + sparse CE: δ(L) = ŷ − y."""
    session = await new_session(client, loss="sparse_categorical_crossentropy")
    sid = session["id"]
    forward = strict_json(await client.post(f"/api/sessions/{sid}/forward"))
    y = arr(forward["batch"]["y"])
    assert y.shape == (SMALL_NET["batch_size"], 2)
    assert np.array_equal(y.sum(axis=1), np.ones(len(y))) and set(np.unique(y)) <= {0.0, 1.0}
    backward = strict_json(await client.post(f"/api/sessions/{sid}/backward"))
    y_hat = arr(forward["layers"][-1]["a"])
    assert np.allclose(arr(backward["layers"][-1]["delta"]), y_hat - y, atol=1e-6)
    # the same targets as a categorical cross-entropy session on the same data and seed
    other = await new_session(client)
    reference = strict_json(await client.post(f"/api/sessions/{other['id']}/forward"))
    assert np.array_equal(arr(reference["batch"]["y"]), y)
    step = strict_json(await client.post(f"/api/sessions/{sid}/step"))
    assert arr(step["batch"]["y"]).shape == (SMALL_NET["batch_size"], 2)


async def test_sparse_loss_on_a_regression_set_is_422_naming_the_loss(client):
    response = await client.post("/api/sessions", json={
        **SMALL_NET, "dataset": {"name": "plane", "n_samples": 100}, "layers": [{"units": 1}],
        "loss": "sparse_categorical_crossentropy"})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "loss"] and "regression" in detail["msg"]


async def test_batch_count_after_patching_the_batch_size_mid_epoch(client):
    """100 training rows, batch 4: after one batch, batch 3 leaves ⌈96/3⌉ = 32 more, so 33 in this epoch."""
    session = await new_session(client)
    sid = session["id"]
    await client.post(f"/api/sessions/{sid}/step")
    patched = await client.patch(f"/api/sessions/{sid}", json={"batch_size": 3})
    assert patched.status_code == 200, patched.text
    state = patched.json()["state"]
    assert (state["batch"], state["steps_per_epoch"]) == (1, 33)
    state = strict_json(await client.post(f"/api/sessions/{sid}/step"))["state"]
    assert (state["batch"], state["steps_per_epoch"], state["epoch"]) == (2, 33, 0)
    answer = strict_json(await client.post(f"/api/sessions/{sid}/epoch"))
    assert (answer["epoch"], answer["step"]) == (1, 33)
    assert (answer["state"]["batch"], answer["state"]["steps_per_epoch"]) == (0, 34)


def _npz(**arrays) -> bytes:
    import io
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


async def test_npz_import_with_non_numeric_weights_or_a_non_object_config_is_422(client):
    import io
    import json
    session = await new_session(client)
    sid = session["id"]
    raw = (await client.get(f"/api/sessions/{sid}/export?format=npz")).content
    with np.load(io.BytesIO(raw), allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    octet = {"content-type": "application/octet-stream"}
    for bad, loc in ((np.full(arrays["w0"].shape, "a"), ["body", "weights", 0]),
                     (arrays["w0"] + 1j, ["body", "weights", 0])):
        response = await client.put(f"/api/sessions/{sid}/export", content=_npz(**{**arrays, "w0": bad}),
                                    headers=octet)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == loc
    response = await client.put(f"/api/sessions/{sid}/export", headers=octet,
                                content=_npz(**{**arrays, "config": np.array(json.dumps([1, 2]))}))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "config"]


async def test_one_off_forward_leaves_the_dropout_masks_of_the_epoch_alone(client):
    """/forward with indices is a one-off batch: the next minibatch has the rows and the dropout mask it
    would have had without it."""
    layers = [{"units": 6, "activation": "relu", "dropout": 0.5}, {"units": 2, "activation": "softmax"}]
    looked, plain = await new_session(client, layers=layers), await new_session(client, layers=layers)
    one_off = strict_json(await client.post(f"/api/sessions/{looked['id']}/forward", json={"indices": [3, 4, 5]}))
    assert "mask" in one_off["layers"][0]
    await client.post(f"/api/sessions/{looked['id']}/backward")
    await client.post(f"/api/sessions/{looked['id']}/update")
    after = strict_json(await client.post(f"/api/sessions/{looked['id']}/forward"))
    reference = strict_json(await client.post(f"/api/sessions/{plain['id']}/forward"))
    assert after["batch"]["indices"] == reference["batch"]["indices"]
    assert np.array_equal(arr(after["layers"][0]["mask"]), arr(reference["layers"][0]["mask"]))
    z, a, mask = (arr(after["layers"][0][k]) for k in ("z", "a", "mask"))
    assert np.allclose(a, mask * np.maximum(z, 0.0), atol=1e-6)      # a(2) = mask ⊙ relu(z(2))

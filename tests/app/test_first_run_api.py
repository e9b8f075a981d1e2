"""Smaller first-run defects of issue 11, at the API: Epoch's answer carries ΔW; one sigmoid unit with
binary cross-entropy (Keras' idiom) trains on a 2-class set; a multipart CSV upload works; a 422
names its field once."""
from __future__ import annotations

import numpy as np
import pytest
from app_helpers import SMALL_NET, arr

pytestmark = pytest.mark.anyio


async def test_epoch_answer_carries_the_last_steps_delta_w(client):
    sid = (await client.post("/api/sessions", json=SMALL_NET)).json()["id"]
    body = (await client.post(f"/api/sessions/{sid}/epoch")).json()
    assert body["layers"]
    for entry in body["layers"]:                      # ΔW = W after − W as the last forward pass used it
        delta = arr(entry["W_updated"]) - arr(entry["W"])
        np.testing.assert_allclose(arr(entry["dW_applied"]), delta, atol=1e-6)
        np.testing.assert_allclose(arr(entry["dW_applied"]), -0.1 * arr(entry["dW"]), rtol=1e-5, atol=1e-7)


async def test_one_sigmoid_unit_with_binary_crossentropy_learns_a_two_class_set(client):
    net = {"dataset": {"name": "xor", "seed": 0}, "layers": [{"units": 8, "activation": "tanh"},
           {"units": 1, "activation": "sigmoid"}], "loss": "binary_crossentropy",
           "optimizer": {"name": "sgd", "learning_rate": 0.5}}
    made = await client.post("/api/sessions", json=net)
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    step = (await client.post(f"/api/sessions/{sid}/step")).json()
    y, y_pred = arr(step["batch"]["y"]), arr(step["batch"]["y_pred"])
    assert y.shape == (16, 1) and set(np.unique(y)) <= {0.0, 1.0}
    bce = -np.mean(y * np.log(y_pred) + (1 - y) * np.log(1 - y_pred))
    assert step["loss"] == pytest.approx(bce, rel=1e-5)            # the loss is BCE of those numbers
    out = step["layers"][-1]
    np.testing.assert_allclose(arr(out["delta"]), y_pred - y, atol=1e-6)     # δ(L) = ŷ − y
    for _ in range(20):
        last = (await client.post(f"/api/sessions/{sid}/epoch")).json()
    assert last["val_acc"] > 0.9
    confusion = (await client.get(f"/api/sessions/{sid}/confusion")).json()
    assert np.array(confusion["matrix"]).shape == (2, 2)


async def test_a_multipart_csv_upload_works_like_the_raw_file(client):
    rows = "".join(f"{i % 7},{i % 3},{i % 2}\n" for i in range(40))
    files = {"file": ("mine.csv", b"x1,x2,label\n" + rows.encode(), "text/csv")}
    r = await client.post("/api/datasets/csv", files=files)          # curl -F file=@mine.csv
    assert r.status_code == 201, r.text
    assert r.json()["filename"] == "mine.csv" and r.json()["columns"] == ["x1", "x2", "label"]
    raw = await client.post("/api/datasets/csv?filename=mine.csv", content=b"x1,x2,label\n" + rows.encode())
    assert raw.json()["dataset"]["n_train"] == r.json()["dataset"]["n_train"]
    form = b'--XyZ\r\nContent-Disposition: form-data; name="note"\r\n\r\nno file here\r\n--XyZ--\r\n'
    empty = await client.post("/api/datasets/csv", content=form,
                              headers={"content-type": "multipart/form-data; boundary=XyZ"})
    assert empty.status_code == 422 and "curl -F file=@data.csv" in empty.json()["detail"][0]["msg"]


async def test_a_422_names_its_field_once(client):
    r = await client.post("/api/sessions", json={**SMALL_NET, "dataset": {"name": "mnist"}})
    detail = r.json()["detail"][0]
    assert r.status_code == 422 and detail["loc"] == ["body", "dataset", "name"]
    assert not detail["msg"].startswith("dataset.name")

"""Uploading a CSV file as a data set: parsed by the engine, used by sessions and comparisons; bad files
get a 422 that names the line and column."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest
from app_helpers import strict_json

from app.settings import Settings
from engine.datasets import load_csv

pytestmark = pytest.mark.anyio
ROWS = "\n".join(f"{x1:.3f},{x2:.3f},{int(x1 * x2 > 0)}" for x1, x2 in
                 np.random.default_rng(0).uniform(-1, 1, size=(60, 2)))
GOOD = ("x1,x2,label\n" + ROWS + "\n").encode()
NET = [{"units": 4, "activation": "tanh"}, {"units": 2, "activation": "softmax"}]


async def upload(client, body: bytes, query: str = "filename=quadrants.csv"):
    return await client.post(f"/api/datasets/csv?{query}", content=body, headers={"Content-Type": "text/csv"})


async def test_upload_then_train_on_it(client):
    answer = strict_json(await upload(client, GOOD))
    assert answer["columns"] == ["x1", "x2", "label"] and answer["options"]["target"] == "label"
    info = answer["dataset"]
    expected = load_csv(GOOD, target="label")
    assert (info["kind"], info["n_classes"], info["n_train"], info["n_test"]) == (
        "classification", 2, expected.n_train, expected.n_test)
    spec = {"name": "csv", "upload_id": answer["upload_id"]}
    created = await client.post("/api/sessions", json={"dataset": spec, "layers": NET, "batch_size": 6})
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    step = strict_json(await client.post(f"/api/sessions/{sid}/forward", json={"indices": [0, 1, 2]}))
    np.testing.assert_allclose(np.array(step["batch"]["x"]["values"]), expected.x_train[:3], rtol=1e-6)
    epoch = strict_json(await client.post(f"/api/sessions/{sid}/step"))
    assert epoch["step"] == 1

    # Another target column (a regression on x2) re-reads the stored file.
    other = {**spec, "target": "x2", "kind": "regression"}
    reg = await client.post("/api/sessions", json={"dataset": other, "layers": [{"units": 1}]})
    assert reg.status_code == 201, reg.text
    assert reg.json()["dataset"]["kind"] == "regression" and reg.json()["dataset"]["input_shape"] == [2]


async def test_bad_files_name_the_line_and_column(client):
    bad = GOOD.replace(b"\n", b"\n0.5,1,1\n0.5,oops,1\n", 1)   # line 3 is a bad row
    response = await upload(client, bad)
    assert response.status_code == 422
    assert "Line 3, column 'x2'" in response.json()["detail"][0]["msg"] and "not a number" in response.text
    response = await upload(client, GOOD, "target=price")
    assert response.status_code == 422 and "'price' not found" in response.text and "x1, x2, label" in response.text
    response = await upload(client, b"")
    assert response.status_code == 422 and "empty" in response.text
    response = await upload(client, b"a,b\n1,2\n3,4\n")
    assert response.status_code == 422 and "at least 4" in response.text
    response = await client.post("/api/sessions", json={"dataset": {"name": "csv", "upload_id": "nope"}, "layers": NET})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "dataset", "upload_id"]
    response = await client.post("/api/sessions", json={"dataset": {"name": "csv"}, "layers": NET})
    assert response.status_code == 422 and "upload" in response.text


@pytest.mark.parametrize("settings", [Settings(max_csv_bytes=200, max_uploads=2)])
async def test_size_limit_and_only_the_newest_uploads_are_kept(client, settings):
    response = await upload(client, GOOD)
    assert response.status_code == 413 and "exceeds the limit of 200 bytes (max_csv_bytes)" in response.text
    small = b"x,y\n" + b"".join(f"{i},{i % 2}\n".encode() for i in range(8))
    ids = [strict_json(await upload(client, small))["upload_id"] for _ in range(3)]
    first = await client.post("/api/sessions", json={"dataset": {"name": "csv", "upload_id": ids[0]}, "layers": NET})
    assert first.status_code == 422                                 # forgotten: only 2 are kept
    last = await client.post("/api/sessions", json={"dataset": {"name": "csv", "upload_id": ids[2]}, "layers": NET})
    assert last.status_code == 201, last.text


async def test_a_comparison_on_an_uploaded_csv(client):
    upload_id = strict_json(await upload(client, GOOD))["upload_id"]
    body = {"dataset": {"name": "csv", "upload_id": upload_id}, "layers": NET, "batch_size": 8,
            "learning_rates": [0.1, 1.0], "epochs": 1}
    job = strict_json(await client.post("/api/compare", json=body))
    for _ in range(300):
        job = strict_json(await client.get(f"/api/compare/{job['id']}"))
        if job["status"] == "done":
            break
        await asyncio.sleep(0.1)
    assert job["status"] == "done", job
    first = [run["history"]["batch_loss"][0] for run in job["runs"]]
    assert first[0] == pytest.approx(first[1])                     # same initial weights and batch
    assert all(len(run["history"]["batch_loss"]) == 6 for run in job["runs"])   # 48 rows / 8

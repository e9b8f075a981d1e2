"""The data view's numbers: the 2-D points of both splits (/data) and the test-set confusion matrix."""
from __future__ import annotations

import numpy as np
import pytest
from app_helpers import answered_while_held, arr, new_session, strict_json

from engine.datasets import load

pytestmark = pytest.mark.anyio


async def test_data_sends_the_train_and_test_points_with_their_labels(client):
    session = await new_session(client, dataset={"name": "circle", "n_samples": 300, "noise": 0.1, "seed": 4})
    answer = strict_json(await client.get(f"/api/sessions/{session['id']}/data"))
    data = load("circle", n_samples=300, noise=0.1, seed=4)
    assert answer["kind"] == "classification" and answer["truncated"] is False
    for split, coords, labels in (("train", data.coords_train, data.y_train), ("test", data.coords_test, data.y_test)):
        part = answer[split]
        assert part["n"] == len(coords) and part["indices"] == list(range(len(coords)))
        np.testing.assert_allclose(arr(part["x"]), coords, rtol=1e-6)
        assert part["labels"] == labels.tolist()
    assert answer["train"]["n"] + answer["test"]["n"] == 300

    capped = strict_json(await client.get(f"/api/sessions/{session['id']}/data?limit=10"))
    assert capped["truncated"] is True and len(capped["train"]["indices"]) == 10
    rows = capped["train"]["indices"]
    assert rows[0] == 0 and rows[-1] == data.n_train - 1            # spread over the whole split
    np.testing.assert_allclose(arr(capped["train"]["x"]), data.coords_train[rows], rtol=1e-6)


async def test_data_of_a_regression_set_sends_targets_and_bad_limits_are_422(client):
    session = await new_session(client, dataset={"name": "plane", "n_samples": 100, "seed": 2},
                                layers=[{"units": 4, "activation": "tanh"}, {"units": 1, "activation": "linear"}],
                                loss="mean_squared_error")
    answer = strict_json(await client.get(f"/api/sessions/{session['id']}/data"))
    data = load("plane", n_samples=100, seed=2)
    np.testing.assert_allclose(arr(answer["test"]["targets"]), data.y_test[:, 0], rtol=1e-6)
    assert "labels" not in answer["test"]
    bad = await client.get(f"/api/sessions/{session['id']}/data?limit=999999")
    assert bad.status_code == 422 and "limit" in bad.text
    conf = await client.get(f"/api/sessions/{session['id']}/confusion")
    assert conf.status_code == 409 and "classification" in conf.text


async def test_confusion_matrix_after_an_epoch_matches_val_acc(client):
    session = await new_session(client, dataset={"name": "xor", "n_samples": 400, "seed": 0}, batch_size=8)
    sid = session["id"]
    epoch = strict_json(await client.post(f"/api/sessions/{sid}/epoch"))
    conf = strict_json(await client.get(f"/api/sessions/{sid}/confusion"))
    matrix = np.array(conf["matrix"])
    assert conf["split"] == "test" and conf["epoch"] == 1 and matrix.shape == (2, 2)
    assert matrix.sum() == conf["n"] == 200
    data = load("xor", n_samples=400, seed=0)
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(data.y_test, minlength=2))   # rows: true
    assert np.trace(matrix) / matrix.sum() == pytest.approx(conf["accuracy"])
    assert conf["accuracy"] == pytest.approx(epoch["val_acc"], abs=1e-6)
    train = strict_json(await client.get(f"/api/sessions/{sid}/confusion?split=train"))
    assert np.array(train["matrix"]).sum() == 200
    assert (await client.get(f"/api/sessions/{sid}/confusion?split=valid")).status_code == 422


async def test_the_confusion_matrix_is_of_the_weights_when_asked_and_holds_no_lock_while_counted(client, monkeypatch):
    """Counted on a copy of the weights (MNIST's 10,000 digits: ~50 ms), outside the session's lock: a
    step is answered meanwhile, and the matrix is that of the weights before it."""
    from app import session_io
    session = await new_session(client, dataset={"name": "xor", "n_samples": 400, "seed": 0}, batch_size=8)
    sid = session["id"]
    await client.post(f"/api/sessions/{sid}/epoch")
    before = strict_json(await client.get(f"/api/sessions/{sid}/confusion"))    # the same weights, locked

    async def step():
        return strict_json(await client.post(f"/api/sessions/{sid}/step"))

    conf, stepped = await answered_while_held(client, monkeypatch, session_io, "confusion_of",
                                              f"/api/sessions/{sid}/confusion", step)
    got = {"conf": conf}
    assert got["conf"]["step"] == stepped["state"]["step"] - 1 and got["conf"]["epoch"] == 1
    assert got["conf"] == before


async def test_a_two_column_csv_is_a_plane_with_points_and_a_decision_boundary(client):
    import numpy as np
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(60, 2))
    body = "u,v,label\n" + "".join(f"{a:.4f},{b:.4f},{int(a * b > 0)}\n" for a, b in pts)
    up = (await client.post("/api/datasets/csv?filename=q.csv", content=body.encode())).json()
    made = await client.post("/api/sessions", json={"dataset": {"name": "csv", "upload_id": up["upload_id"]},
                                                    "layers": [{"units": 4, "activation": "tanh"},
                                                               {"units": 2, "activation": "softmax"}]})
    sid = made.json()["id"]
    points = (await client.get(f"/api/sessions/{sid}/data")).json()
    assert points["train"]["n"] + points["test"]["n"] == 60
    xs = np.array(points["train"]["x"]["values"])
    assert np.isin(np.round(xs, 4), np.round(pts, 4)).all()          # the file's own numbers
    grid = await client.get(f"/api/sessions/{sid}/predict-grid?resolution=5")
    assert grid.status_code == 200 and grid.json()["value"]["shape"] == [5, 5]

"""History, predict-grid, reset, learning-rate change, export/import, options and pages."""
from __future__ import annotations

import io

import numpy as np
import pytest
from app_helpers import SMALL_NET, arr, new_session, strict_json

pytestmark = pytest.mark.anyio


async def weights_of(client, sid) -> list[np.ndarray]:
    exported = strict_json(await client.get(f"/api/sessions/{sid}/export"))
    return [arr(w) for w in exported["weights"]]


async def test_create_answer_has_config_and_state(client):
    created = await new_session(client)
    assert set(created) >= {"id", "config", "state"}
    assert created["state"] == {**created["state"], "epoch": 0, "step": 0, "phase": "ready"}
    assert created["config"]["optimizer"]["learning_rate"] == 0.1
    minimal = await client.post("/api/sessions", json={"dataset": {"name": "circle"},
                                                        "layers": [{"units": 2, "activation": "softmax"}]})
    assert minimal.status_code == 201
    config = minimal.json()["config"]
    assert config["optimizer"]["name"] == "sgd" and config["batch_size"] == 16 and config["seed"] == 0


async def test_predict_grid_shapes(client):
    sid = (await new_session(client))["id"]
    grid = strict_json(await client.get(f"/api/sessions/{sid}/predict-grid?resolution=7"))
    assert len(grid["x1"]) == 7 and len(grid["x2"]) == 7
    assert grid["outputs"]["shape"] == [7, 7, 2] and grid["value"]["shape"] == [7, 7]
    outputs = arr(grid["outputs"])
    np.testing.assert_allclose(outputs.sum(axis=-1), 1.0, rtol=1e-5)        # softmax rows
    np.testing.assert_allclose(arr(grid["value"]), outputs[..., 1])
    assert grid["x1"][0] < grid["x1"][-1]
    reg = (await new_session(client, dataset={"name": "plane", "n_samples": 60}, loss=None,
                             layers=[{"units": 1, "activation": "linear"}]))["id"]
    assert strict_json(await client.get(f"/api/sessions/{reg}/predict-grid?resolution=3"))["value"]["shape"] == [3, 3]


def b64(tensor: dict) -> np.ndarray:
    """A tensor with encoding "b64" (float32 little-endian, base64) as an array of its shape."""
    import base64
    assert tensor["dtype"] == "float32le"
    return np.frombuffer(base64.b64decode(tensor["values"]), dtype="<f4").reshape(tensor["shape"])


async def test_predict_grid_is_the_forward_pass_over_the_grid_in_both_encodings(client):
    sid = (await new_session(client))["id"]
    await client.post(f"/api/sessions/{sid}/epoch")
    w1, b1, w2, b2, w3, b3 = await weights_of(client, sid)           # Keras layout: (inputs, units)
    grid = strict_json(await client.get(f"/api/sessions/{sid}/predict-grid?resolution=6"))
    g1, g2 = np.meshgrid(grid["x1"], grid["x2"])                       # row i at x2[i], column j at x1[j]
    a = np.stack([g1.ravel(), g2.ravel()], axis=1)
    a = np.tanh(np.tanh(a @ w1 + b1) @ w2 + b2)
    z = a @ w3 + b3
    y = np.exp(z - z.max(axis=1, keepdims=True))
    y = (y / y.sum(axis=1, keepdims=True)).reshape(6, 6, 2)
    np.testing.assert_allclose(arr(grid["outputs"]), y, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(arr(grid["value"]), y[..., 1], rtol=1e-5, atol=1e-6)
    assert arr(grid["predicted_class"]).tolist() == y.argmax(axis=-1).tolist()
    packed = strict_json(await client.get(f"/api/sessions/{sid}/predict-grid?resolution=6&encoding=b64"))
    assert packed["x1"] == grid["x1"] and packed["x2"] == grid["x2"]
    for key in ("outputs", "value", "predicted_class"):               # the same numbers as float32
        assert packed[key]["shape"] == grid[key]["shape"]
        np.testing.assert_array_equal(b64(packed[key]), arr(grid[key]).astype(np.float32))
    bad = await client.get(f"/api/sessions/{sid}/predict-grid?resolution=6&encoding=png")
    assert bad.status_code == 422 and "encoding" in bad.text


async def test_small_grids_are_answered_on_the_event_loop_and_big_ones_in_a_worker_thread(client, monkeypatch):
    """The page's grids of a small network (boundary 40 x 40, unit maps 32 x 32) skip the thread hop
    the player would wait for; a 200 x 200 grid (megabytes of JSON) still goes to a worker thread."""
    from app import responses
    hops = []
    real = responses.run_in_threadpool

    async def counted(func, *args, **kwargs):
        hops.append(func)
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(responses, "run_in_threadpool", counted)
    sid = (await new_session(client))["id"]
    for url in ("predict-grid?resolution=40&encoding=b64", "unit-maps?resolution=32&encoding=b64",
                "history?points=4000"):
        assert (await client.get(f"/api/sessions/{sid}/{url}")).status_code == 200
    assert hops == []
    for url in ("predict-grid?resolution=200", "unit-maps?resolution=200", "history"):
        assert (await client.get(f"/api/sessions/{sid}/{url}")).status_code == 200
    assert len(hops) == 3


async def test_reset_gives_the_same_initial_weights(client):
    sid = (await new_session(client))["id"]
    initial = await weights_of(client, sid)
    await client.post(f"/api/sessions/{sid}/epoch")
    trained = await weights_of(client, sid)
    assert not np.allclose(trained[0], initial[0])
    reset = strict_json(await client.post(f"/api/sessions/{sid}/reset", json={"weights": "initial"}))
    assert reset["state"]["step"] == 0 and reset["state"]["epoch"] == 0
    assert all(np.array_equal(a, b) for a, b in zip(await weights_of(client, sid), initial))
    history = strict_json(await client.get(f"/api/sessions/{sid}/history"))["history"]
    assert history["batch_loss"] == [] and history["loss"] == []
    await client.post(f"/api/sessions/{sid}/reset", json={"weights": "new", "seed": 5})
    fresh = await weights_of(client, sid)
    assert not np.allclose(fresh[0], initial[0])


async def test_same_seed_same_first_step_after_reset(client):
    sid = (await new_session(client))["id"]
    first = strict_json(await client.post(f"/api/sessions/{sid}/step"))
    await client.post(f"/api/sessions/{sid}/reset")
    again = strict_json(await client.post(f"/api/sessions/{sid}/step"))
    assert again["batch"]["indices"] == first["batch"]["indices"] and again["loss"] == first["loss"]


async def test_learning_rate_change_keeps_the_network(client):
    sid = (await new_session(client))["id"]
    await client.post(f"/api/sessions/{sid}/step")
    before = await weights_of(client, sid)
    patched = strict_json(await client.patch(f"/api/sessions/{sid}", json={"optimizer": {"learning_rate": 0.5}}))
    assert patched["state"]["learning_rate"] == 0.5 and patched["state"]["step"] == 1
    assert all(np.array_equal(a, b) for a, b in zip(await weights_of(client, sid), before))
    step = strict_json(await client.post(f"/api/sessions/{sid}/step"))
    assert step["learning_rate"] == 0.5
    np.testing.assert_allclose(arr(step["layers"][0]["dW_applied"]), -0.5 * arr(step["layers"][0]["dW"]),
                               rtol=1e-4, atol=1e-6)


async def test_export_import_round_trip_json_and_npz(client):
    source = (await new_session(client))["id"]
    await client.post(f"/api/sessions/{source}/epoch")
    exported = strict_json(await client.get(f"/api/sessions/{source}/export"))
    assert exported["format"] == "backprop-lab-session/1" and exported["weights"][0]["shape"] == [2, 8]
    target = (await new_session(client, seed=9))["id"]
    r = await client.put(f"/api/sessions/{target}/export", json=exported)
    assert r.status_code == 200 and r.json()["id"] == target
    assert all(np.array_equal(a, b) for a, b in zip(await weights_of(client, target),
                                                    await weights_of(client, source)))
    grid_a = strict_json(await client.get(f"/api/sessions/{source}/predict-grid?resolution=4"))
    grid_b = strict_json(await client.get(f"/api/sessions/{target}/predict-grid?resolution=4"))
    assert grid_a["outputs"] == grid_b["outputs"]

    npz = await client.get(f"/api/sessions/{source}/export?format=npz")
    assert npz.status_code == 200 and npz.content[:2] == b"PK"
    with np.load(io.BytesIO(npz.content), allow_pickle=False) as data:
        assert data["w0"].shape == (2, 8)                       # Keras layout: (inputs, units)
    other = (await new_session(client, seed=3))["id"]
    r = await client.put(f"/api/sessions/{other}/export", content=npz.content,
                         headers={"content-type": "application/octet-stream"})
    assert r.status_code == 200
    assert all(np.array_equal(a, b) for a, b in zip(await weights_of(client, other),
                                                    await weights_of(client, source)))


async def test_import_rejects_bad_files(client):
    sid = (await new_session(client))["id"]
    exported = strict_json(await client.get(f"/api/sessions/{sid}/export"))
    exported["weights"][0] = {"shape": [3, 8], "values": [[0.0] * 8] * 3}
    r = await client.put(f"/api/sessions/{sid}/export", json=exported)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "weights", 0]
    r = await client.put(f"/api/sessions/{sid}/export", content=b"PK\x03\x04garbage",
                         headers={"content-type": "application/octet-stream"})
    assert r.status_code == 422
    pickled = io.BytesIO()
    np.save(pickled, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    r = await client.put(f"/api/sessions/{sid}/export", content=pickled.getvalue(),
                         headers={"content-type": "application/octet-stream"})
    assert r.status_code == 422


@pytest.mark.parametrize("settings", [__import__("app.settings").settings.Settings(max_upload_bytes=1000)])
async def test_upload_limit(client, settings):
    sid = (await new_session(client))["id"]
    r = await client.put(f"/api/sessions/{sid}/export", content=b"x" * 5000,
                         headers={"content-type": "application/octet-stream"})
    assert r.status_code == 413 and "max_upload_bytes" in r.json()["detail"]


async def test_options_lists_names_defaults_and_limits(client, settings):
    options = strict_json(await client.get("/api/options"))
    assert "softmax" in options["activations"] and "categorical_crossentropy" in options["losses"]
    sgd = next(o for o in options["optimizers"] if o["name"] == "sgd")
    assert sgd["hyperparameters"]["learning_rate"]["default"] == 0.01
    assert {o["name"] for o in options["optimizers"]} >= {"sgd", "adam", "rmsprop", "adagrad", "adadelta"}
    assert "glorot_uniform" in options["initializers"]
    spiral = next(d for d in options["datasets"] if d["name"] == "spiral")
    assert spiral["available"] is True and "noise" in spiral["options"]
    assert options["limits"]["max_layers"] == settings.max_layers
    created = await client.post("/api/sessions", json=options["defaults"])
    assert created.status_code == 201


async def test_pages_vendor_files_and_offline_docs(client):
    assert (await client.get("/")).status_code == 200
    js = await client.get("/vendor/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000
    assert (await client.get("/favicon.ico")).status_code == 200
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text.lower()
    assert "/vendor/swagger/swagger-ui-bundle.js" in docs.text
    bundle = await client.get("/vendor/swagger/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 500_000
    assert (await client.get("/vendor/swagger/../../etc/passwd")).status_code == 404
    spec = strict_json(await client.get("/openapi.json"))
    assert "/api/sessions/{session_id}/step" in spec["paths"]
    assert (await client.get("/static/.gitkeep")).status_code == 200
    assert SMALL_NET["layers"][-1]["units"] == 2


async def test_history_thinned_to_points_keeps_every_stride_th_step_and_the_newest(client):
    sid = (await new_session(client))["id"]
    losses = []
    for _ in range(50):
        losses.append((await client.post(f"/api/sessions/{sid}/step")).json()["loss"])
    whole = strict_json(await client.get(f"/api/sessions/{sid}/history"))
    assert whole["batch_loss_stride"] == 1 and "batch_step" not in whole["history"]
    assert whole["history"]["batch_loss"] == pytest.approx(losses, rel=1e-6)
    thin = strict_json(await client.get(f"/api/sessions/{sid}/history?points=8"))
    # 50 steps in at most 8 points: stride 8 (⌈50/8⌉ = 7 points, and the newest step makes 8)
    assert thin["batch_loss_stride"] == 8
    assert thin["history"]["batch_step"] == [8, 16, 24, 32, 40, 48, 50]
    assert thin["history"]["batch_loss"] == [whole["history"]["batch_loss"][k - 1] for k in (8, 16, 24, 32, 40, 48, 50)]
    assert {k: v for k, v in thin["history"].items() if k not in ("batch_loss", "batch_step")} == \
        {k: v for k, v in whole["history"].items() if k != "batch_loss"}
    exact = strict_json(await client.get(f"/api/sessions/{sid}/history?points=50"))
    assert exact["batch_loss_stride"] == 1 and exact["history"] == whole["history"]
    bad = await client.get(f"/api/sessions/{sid}/history?points=1")
    assert bad.status_code == 422 and "points" in str(bad.json()["detail"])


async def test_history_thins_the_per_epoch_curves_too(client):
    sid = (await new_session(client))["id"]
    for _ in range(13):
        await client.post(f"/api/sessions/{sid}/epoch")
    whole = strict_json(await client.get(f"/api/sessions/{sid}/history"))["history"]
    per_epoch = [k for k in whole if k != "batch_loss"]
    assert {"loss", "val_loss"} <= set(per_epoch) and all(len(whole[k]) == 13 for k in per_epoch)
    steps = len(whole["batch_loss"])
    thin = strict_json(await client.get(f"/api/sessions/{sid}/history?points=5"))
    # 13 epochs in at most 5 points: stride 4 (epochs 4, 8, 12) and the newest, 13
    assert thin["epoch_stride"] == 4 and thin["history"]["epoch_number"] == [4, 8, 12, 13]
    for k in per_epoch:
        assert thin["history"][k] == [whole[k][e - 1] for e in (4, 8, 12, 13)], k
    kept = thin["history"]["batch_step"]
    assert kept[-1] == steps and len(kept) <= 5 and thin["batch_loss_stride"] == kept[0]
    assert thin["history"]["batch_loss"] == [whole["batch_loss"][k - 1] for k in kept]


async def test_history_writes_a_value_that_is_not_finite_as_null_whole_and_thinned(app, client):
    # The history is written as history_public builds it (run_locked's plain: no render walk): its
    # finite() turns them into None (json refuses NaN; orjson would write a stray one as null).
    sid = (await new_session(client))["id"]
    for _ in range(10):
        await client.post(f"/api/sessions/{sid}/step")
    curve = app.state.store.get(sid).history["batch_loss"]
    curve[1], curve[3], curve[9] = float("nan"), float("inf"), float("-inf")
    whole = strict_json(await client.get(f"/api/sessions/{sid}/history"))["history"]["batch_loss"]
    assert len(whole) == 10 and [k for k, v in enumerate(whole) if v is None] == [1, 3, 9]
    assert all(isinstance(v, float) for k, v in enumerate(whole) if k not in (1, 3, 9))
    thin = strict_json(await client.get(f"/api/sessions/{sid}/history?points=4"))["history"]
    # 10 steps in at most 4 points: stride 4 (steps 4, 8) and the newest, 10
    assert thin["batch_step"] == [4, 8, 10] and thin["batch_loss"] == [None, whole[7], None]

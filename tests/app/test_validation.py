"""Bad input gets 422 naming the field, unknown sessions 404, a full server 503; never a 500."""
from __future__ import annotations

import pytest
from app_helpers import SMALL_NET, new_session, strict_json

from app.settings import Settings

pytestmark = pytest.mark.anyio


def field_of(response) -> tuple:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    return tuple(detail["loc"]), detail["msg"]


@pytest.mark.parametrize("changes, loc, words", [
    ({"layers": [{"units": 0, "activation": "tanh"}, {"units": 2, "activation": "softmax"}]},
     ("body", "layers", 0, "units"), ""),
    ({"layers": [{"units": 8, "activation": "swish"}, {"units": 2, "activation": "softmax"}]},
     ("body", "layers", 0, "activation"), "valid names"),
    ({"layers": []}, ("body", "layers"), ""),
    ({"optimizer": {"name": "sgd", "learning_rate": 0}}, ("body", "optimizer", "learning_rate"), ""),
    ({"optimizer": {"name": "sgd", "learning_rate": 100.5}}, ("body", "optimizer", "learning_rate"), ""),
    ({"optimizer": {"name": "sgd", "learning_rate": -1}}, ("body", "optimizer", "learning_rate"), ""),
    ({"optimizer": {"name": "nadam"}}, ("body", "optimizer", "name"), "valid names"),
    ({"optimizer": {"name": "sgd", "momentum": 3}}, ("body", "optimizer", "momentum"), "[0.0, 1.0]"),
    ({"optimizer": {"name": "sgd", "betas": 3}}, ("body", "optimizer", "betas"), "unknown"),
    ({"loss": "cross_entropy"}, ("body", "loss"), "valid names"),
    ({"kernel_initializer": "magic"}, ("body", "kernel_initializer"), "valid names"),
    ({"batch_size": 0}, ("body", "batch_size"), ""),
    ({"batch_size": 10**6}, ("body", "batch_size"), "at most"),
    ({"dataset": {"name": "cifar"}}, ("body", "dataset", "name"), "valid names"),
    ({"dataset": {"name": "spiral", "noise": 7}}, ("body", "dataset"), "noise"),
    ({"dataset": {"name": "mnist", "path": "/etc"}}, ("body", "dataset", "path"), "not accepted"),
    ({"layers": [{"units": 8, "activation": "tanh"}, {"units": 3, "activation": "softmax"}]},
     ("body", "layers", 1, "units"), "dense_2"),
    ({"layers": [{"units": 5000}, {"units": 2, "activation": "softmax"}]}, ("body", "layers", 0, "units"),
     "at most"),
    ({"colour": "red"}, ("body", "colour"), ""),
])
async def test_bad_session_bodies_name_the_field(client, changes, loc, words):
    loc_got, msg = field_of(await client.post("/api/sessions", json={**SMALL_NET, **changes}))
    assert loc_got == loc
    assert words in msg


async def test_too_many_layers(client):
    layers = [{"units": 2, "activation": "tanh"}] * 9 + [{"units": 2, "activation": "softmax"}]
    loc, msg = field_of(await client.post("/api/sessions", json={**SMALL_NET, "layers": layers}))
    assert loc == ("body", "layers") and "at most 8" in msg


async def test_mnist_unavailable_says_how_to_get_it(client):
    body = {**SMALL_NET, "dataset": {"name": "mnist"}, "layers": [{"units": 10, "activation": "softmax"}]}
    loc, msg = field_of(await client.post("/api/sessions", json=body))
    assert loc == ("body", "dataset", "name") and "backprop-lab download mnist" in msg
    options = strict_json(await client.get("/api/options"))
    mnist = next(d for d in options["datasets"] if d["name"] == "mnist")
    assert mnist["available"] is False and "download" in mnist["reason"]


async def test_mnist_output_layer_mismatch_names_layer(client, mnist_dir, monkeypatch):
    monkeypatch.setenv("BACKPROP_LAB_DATA", str(mnist_dir))
    body = {**SMALL_NET, "dataset": {"name": "mnist", "max_train": 200, "max_test": 50},
            "layers": [{"units": 16, "activation": "relu"}, {"units": 9, "activation": "softmax"}]}
    loc, msg = field_of(await client.post("/api/sessions", json=body))
    assert loc == ("body", "layers", 1, "units") and "dense_2" in msg and "10 classes" in msg
    body["layers"][1]["units"] = 10
    created = await new_session(client, **{k: body[k] for k in ("dataset", "layers")})
    fwd = strict_json(await client.post(f"/api/sessions/{created['id']}/forward"))
    assert fwd["layers"][0]["W"]["shape"] == [16, 784] and fwd["batch"]["y"]["shape"] == [4, 10]


async def test_unknown_session_is_404_everywhere(client):
    sid = "0" * 32
    for method, path in [("get", ""), ("delete", ""), ("post", "/forward"), ("post", "/backward"),
                         ("post", "/update"), ("post", "/step"), ("post", "/epoch"), ("get", "/history"),
                         ("get", "/predict-grid"), ("post", "/reset"), ("get", "/export")]:
        r = await client.request(method.upper(), f"/api/sessions/{sid}{path}")
        assert r.status_code == 404, (method, path, r.text)
    r = await client.patch(f"/api/sessions/{sid}", json={"optimizer": {"learning_rate": 0.1}})
    assert r.status_code == 404
    assert (await client.get("/api/compare/nope")).status_code == 404


async def test_deleted_session_is_gone(client):
    sid = (await new_session(client))["id"]
    assert len(sid) == 32 and int(sid, 16) >= 0
    assert (await client.delete(f"/api/sessions/{sid}")).status_code == 204
    assert (await client.get(f"/api/sessions/{sid}")).status_code == 404


async def test_bad_queries_and_bodies(client):
    sid = (await new_session(client))["id"]
    assert field_of(await client.get(f"/api/sessions/{sid}/predict-grid?resolution=100000"))[0] == \
        ("query", "resolution")
    assert field_of(await client.get(f"/api/sessions/{sid}/predict-grid?resolution=x"))[0] == \
        ("query", "resolution")
    assert field_of(await client.post(f"/api/sessions/{sid}/forward", json={"indices": [-1]}))[0] == \
        ("body", "indices")
    assert field_of(await client.post(f"/api/sessions/{sid}/forward", json={"indices": []}))[0] == \
        ("body", "indices")
    assert field_of(await client.post(f"/api/sessions/{sid}/step?encoding=hex"))[0] == ("query", "encoding")
    assert field_of(await client.patch(f"/api/sessions/{sid}", json={"optimizer": {"learning_rate": 0}}))[0] \
        == ("body", "optimizer", "learning_rate")
    r = await client.post("/api/sessions", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422


@pytest.mark.parametrize("settings", [Settings(max_sessions=2)])
async def test_full_server_answers_503(client, settings):
    await new_session(client)
    second = await new_session(client)
    r = await client.post("/api/sessions", json=SMALL_NET)
    assert r.status_code == 503 and "maximum of 2 training sessions" in r.json()["detail"]
    await client.delete(f"/api/sessions/{second['id']}")
    await new_session(client)


@pytest.mark.parametrize("settings", [Settings(max_total_params=250)])
async def test_total_parameter_cap(client, settings):
    await new_session(client)                      # 114 parameters
    await new_session(client)                      # 228
    r = await client.post("/api/sessions", json=SMALL_NET)
    assert r.status_code == 503 and "250 weights in total" in r.json()["detail"] and "--max-total-params" in r.json()["detail"]


@pytest.mark.parametrize("settings", [Settings(idle_expiry_seconds=0.0)])
async def test_idle_sessions_expire(client, settings, app):
    sid = (await new_session(client))["id"]
    app.state.store.expire()
    assert (await client.get(f"/api/sessions/{sid}")).status_code == 404


@pytest.mark.parametrize("name", ["adam", "rmsprop", "adagrad", "adadelta"])
@pytest.mark.parametrize("epsilon", [0, 0.0, -1e-7])
async def test_epsilon_must_be_positive(client, name, epsilon):
    """ε pads a denominator: 0 (or less) is refused with 422 naming the field, on create and on PATCH."""
    body = {**SMALL_NET, "optimizer": {"name": name, "learning_rate": 0.01, "epsilon": epsilon}}
    loc, msg = field_of(await client.post("/api/sessions", json=body))
    assert loc == ("body", "optimizer", "epsilon") and "(0.0, 1.0]" in msg
    sid = (await new_session(client, optimizer={"name": name, "learning_rate": 0.01}))["id"]
    loc, msg = field_of(await client.patch(f"/api/sessions/{sid}", json={"optimizer": {"epsilon": epsilon}}))
    assert loc == ("body", "optimizer", "epsilon") and "(0.0, 1.0]" in msg
    await new_session(client, optimizer={"name": name, "learning_rate": 0.01, "epsilon": 1e-3})


def test_options_mark_epsilon_and_learning_rate_bounds_exclusive():
    from engine import optimizers
    for name in ("adam", "rmsprop", "adagrad", "adadelta"):
        hyper = type(optimizers.get(name)).hyperparameters()
        assert hyper["epsilon"]["min_exclusive"] and hyper["learning_rate"]["min_exclusive"]
        assert not hyper["decay"]["min_exclusive"]


@pytest.mark.parametrize("rates", [[True], [0.1, False], ["0.1"]])
async def test_compare_learning_rates_must_be_numbers(client, rates):
    loc, msg = field_of(await client.post("/api/compare", json={**SMALL_NET, "learning_rates": rates}))
    assert loc[:2] == ("body", "learning_rates")


@pytest.mark.parametrize("query", ["layers=99", "layers=0", "layers=1,4", "layers=-1"])
async def test_unknown_layer_index_in_query_is_422(client, query):
    """SMALL_NET has layers 1 to 3; an index outside them is refused instead of answering empty lists."""
    sid = (await new_session(client))["id"]
    for method, path in [("post", "/forward"), ("post", "/step")]:
        loc, msg = field_of(await getattr(client, method)(f"/api/sessions/{sid}{path}?{query}"))
        assert loc == ("query", "layers") and "1 to 3" in msg
    frame = strict_json(await client.post(f"/api/sessions/{sid}/step?layers=1,3"))
    assert [e["index"] for e in frame["layers"]] == [1, 3]


async def test_reset_seed_only_applies_to_new_weights(client):
    sid = (await new_session(client))["id"]
    loc, msg = field_of(await client.post(f"/api/sessions/{sid}/reset", json={"weights": "initial", "seed": 5}))
    assert loc == ("body", "seed") and "only applies to new weights" in msg
    loc, _ = field_of(await client.post(f"/api/sessions/{sid}/reset", json={"seed": 5}))   # weights defaults to initial
    assert loc == ("body", "seed")
    reset = strict_json(await client.post(f"/api/sessions/{sid}/reset", json={"weights": "new", "seed": 5}))
    assert reset["config"]["seed"] == 5

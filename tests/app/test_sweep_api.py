"""POST /api/compare as a sweep (issue 17): a grid or a list of runs, each run's settings and worker,
the same numbers as the engine's run function, and the limits as 422s naming them."""
from __future__ import annotations

import pytest
from app_helpers import SMALL_NET, strict_json, wait_done

from app.settings import Settings
from engine import sweep

pytestmark = pytest.mark.anyio
NET = {**SMALL_NET, "batch_size": 10,
       "layers": [{"units": 6, "activation": "tanh"}, {"units": 2, "activation": "softmax"}]}


@pytest.fixture
def settings() -> Settings:
    return Settings(compare_workers=2, max_sweep_runs=6, max_curve_points=8)


async def test_a_grid_runs_every_combination_with_its_settings_and_worker(client, app):
    grid = {"optimizer": ["sgd", {"name": "sgd", "momentum": 0.9}, "adam"], "seed": [0, 1]}
    r = await client.post("/api/compare", json={**NET, "grid": grid, "epochs": 1})
    assert r.status_code == 202, r.text
    job = await wait_done(client, r.json()["id"])
    assert job["status"] == "done"
    runs = job["runs"]
    assert [run["settings"] for run in runs] == sweep.expand(grid=grid)
    assert all(run["worker"].startswith("local:") and int(run["worker"][6:]) > 0 for run in runs)
    assert [run["learning_rate"] for run in runs] == [0.01, 0.01, 0.01, 0.01, 0.001, 0.001]   # the defaults
    # the same seed: the same initial weights and first batch; another seed: others
    first = {s: {run["history"]["batch_loss"][0] for run in runs if run["settings"]["seed"] == s} for s in (0, 1)}
    assert len(first[0]) == len(first[1]) == 1 and first[0] != first[1]
    # the same numbers as the engine's run function in this process; 100 training rows / 10 = 10
    # steps thinned to max_curve_points = 8: every 2nd step
    config = app.state.compare.get(job["id"]).config
    for run in runs:
        expected = sweep.run({"spec": config, "settings": run["settings"], "epochs": 1})
        assert run["steps"] == 10 and run["batch_loss_stride"] == 2
        assert run["history"]["batch_loss"] == expected["history"]["batch_loss"][::2]
        assert run["history"]["loss"] == expected["history"]["loss"]
        # the config a session is built from to step through this run: its seed, its optimizer and η
        assert run["config"]["seed"] == run["settings"]["seed"]
        assert run["config"]["optimizer"]["learning_rate"] == run["learning_rate"]
        assert run["boundary"] == expected["boundary"] and len(run["boundary"]["cells"]) == 24 * 24
    # thumbnails: ?points thins every curve further (10 steps, at most 3 points: every 4th)
    thin = strict_json(await client.get(f"/api/compare/{job['id']}?points=3"))
    for run, full in zip(thin["runs"], runs):
        assert run["batch_loss_stride"] == 4 and run["history"]["batch_loss"] == full["history"]["batch_loss"][::2]
    assert (await client.get(f"/api/compare/{job['id']}?points=1")).status_code == 422


async def test_a_list_of_runs_and_the_old_form_still_work(client):
    runs = [{"batch_size": 4, "learning_rate": 0.3}, {"activation": "relu", "layers": [5, 3]}]
    r = await client.post("/api/compare", json={**NET, "runs": runs, "epochs": 2})
    assert r.status_code == 202, r.text
    old = await client.post("/api/compare", json={**NET, "learning_rates": [0.3], "epochs": 2})
    job, old_job = await wait_done(client, r.json()["id"]), await wait_done(client, old.json()["id"])
    assert [run["settings"] for run in job["runs"]] == runs and old_job["runs"][0]["settings"] == {"learning_rate": 0.3}
    assert job["runs"][0]["steps"] == 2 * 25 and job["runs"][1]["steps"] == 2 * 10
    assert job["runs"][0]["history"]["batch_loss"] != old_job["runs"][0]["history"]["batch_loss"]
    assert old_job["runs"][0]["history"]["loss"] == sweep.run(
        {"spec": {**NET, "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros", "regularization": None,
                  "optimizer": {"name": "sgd", "learning_rate": 0.3}},
         "settings": {}, "epochs": 2})["history"]["loss"]


@pytest.mark.parametrize("extra, loc, words", [
    ({"grid": {"seed": [0, 1, 2], "learning_rate": [0.1, 0.2, 0.3]}}, ["body", "grid"], "max_sweep_runs = 6"),
    ({"runs": [{}] * 7}, ["body", "runs"], "max_sweep_runs = 6"),
    ({"grid": {"optimizer": ["sgd", "adamw"]}}, ["body", "grid", "optimizer", 1], "unknown optimizer"),
    ({"runs": [{"seed": 1}, {"batch_size": 10_000}]}, ["body", "runs", 1, "batch_size"], "at most 4096"),
    ({"grid": {"layers": [[4], [2000]]}}, ["body", "grid", "layers"], "at most 1024 units"),
    ({"grid": {"colour": ["red"]}}, ["body", "grid", "colour"], "unknown axis"),
    ({"grid": {"seed": [1]}, "learning_rates": [0.1]}, ["body", "grid"], "one of learning_rates, grid or runs"),
])
async def test_bad_sweeps_are_422_naming_the_field(client, extra, loc, words):
    r = await client.post("/api/compare", json={**NET, "epochs": 1, **extra})
    assert r.status_code == 422, r.text
    detail = strict_json(r)["detail"][0]
    assert detail["loc"] == loc and words in detail["msg"], detail


async def test_a_huge_grid_is_refused_before_it_is_expanded(client):
    grid = {axis: list(range(1, 41)) for axis in ("seed", "batch_size")} | {"learning_rate": [0.1] * 40}
    r = await client.post("/api/compare", json={**NET, "epochs": 1, "grid": grid})       # 64 000 runs
    assert r.status_code == 422 and "64000 runs" in r.text


async def test_a_range_test_with_seeds_suggests_from_their_mean_curve(client):
    from engine.lr_finder import seeded_suggestion
    body = {**NET, "mode": "range_test", "min_lr": 1e-3, "max_lr": 10.0, "batch_size": 2, "seeds": [0, 1, 2]}
    r = await client.post("/api/compare", json=body)
    assert r.status_code == 202, r.text
    job = await wait_done(client, r.json()["id"])
    runs = job["runs"]
    assert job["status"] == "done" and [run["settings"] for run in runs] == [{"seed": 0}, {"seed": 1}, {"seed": 2}]
    assert len({run["history"]["batch_loss"][0] for run in runs}) == 3          # three initial weights
    assert all(run["history"]["learning_rate"][0] == pytest.approx(1e-3) for run in runs)
    expected = seeded_suggestion([{"learning_rates": run["history"]["learning_rate"],
                                   "smoothed": run["history"]["smoothed_loss"]} for run in runs])
    assert job["suggested_learning_rate"] == expected["suggested_learning_rate"] and job["seeds"] == 3
    assert "mean over 3 seeds" in job["rule"]
    bad = await client.post("/api/compare", json={**body, "seeds": [0, -1]})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "seeds", 1]


async def test_queued_sweeps_are_a_setting_503_past_it_and_cancel_frees_a_place():
    import httpx

    from app.main import create_app
    app = create_app(Settings(compare_workers=1, max_compare_jobs=1))
    long = {**NET, "dataset": {"name": "spiral", "n_samples": 1000, "seed": 1}, "batch_size": 2}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=60) as c:
            first = await c.post("/api/compare", json={**long, "grid": {"seed": [0, 1]}, "epochs": 50})
            assert first.status_code == 202
            full = await c.post("/api/compare", json={**NET, "grid": {"seed": [0]}, "epochs": 1})
            assert full.status_code == 503 and "1 comparisons are running, the maximum" in full.text
            cancelled = strict_json(await c.delete(f"/api/compare/{first.json()['id']}"))
            assert cancelled["status"] in ("cancelled", "cancelling")
            await wait_done(c, first.json()["id"])
            later = await c.post("/api/compare", json={**NET, "grid": {"seed": [0]}, "epochs": 1})
            assert later.status_code == 202
            assert (await wait_done(c, later.json()["id"]))["status"] == "done"
            assert (await c.get(f"/api/compare/{first.json()['id']}")).status_code == 404     # made room
    finally:
        app.state.compare.shutdown()

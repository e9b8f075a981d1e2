"""Sweeps on a Dask cluster (issue 17): a real LocalCluster with two worker processes gives the local
executor's numbers bit for bit; progress comes back while runs train; cancel; a killed worker's run
is run again and still gives the same numbers; without dask, --dask says how to install it."""
from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from app import cli
from app.compare_jobs import CompareManager
from app.settings import Settings
from app.worker_pool import one_blas_thread
from engine import sweep

SPEC = {"dataset": {"name": "xor", "n_samples": 120, "noise": 0.05, "seed": 0},
        "layers": [{"units": 6, "activation": "tanh"}, {"units": 2, "activation": "softmax"}],
        "loss": "categorical_crossentropy", "optimizer": {"name": "sgd", "learning_rate": 0.1},
        "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros", "batch_size": 10, "seed": 0}
LONG = {**SPEC, "dataset": {"name": "spiral", "n_samples": 1000, "seed": 1}, "batch_size": 2}


def _tasks(grid: dict, epochs: int) -> list[dict]:
    return [{"mode": "sweep", "settings": s, "epochs": epochs} for s in sweep.expand(grid=grid)]


def _until(manager, job_id: str, done, timeout: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = manager.snapshot(job_id)
        if done(job):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def _finished(job: dict) -> bool:
    return job["status"] not in ("running", "cancelling")


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install -e '.[dask]')")
    with one_blas_thread():
        local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=40)
    yield local
    local.close()


@pytest.fixture
def dask_manager(cluster):
    from app.dask_jobs import DaskManager
    manager = DaskManager(Settings(max_curve_points=50), cluster.scheduler_address)
    yield manager
    manager.shutdown()


def test_a_sweep_on_a_local_cluster_equals_the_local_executor(cluster, dask_manager):
    tasks = _tasks({"optimizer": ["sgd", "adam"], "seed": [0, 1]}, epochs=2)
    local = CompareManager(Settings(compare_workers=2, max_curve_points=50))
    try:
        expected = _until(local, local.start("compare", SPEC, tasks).id, _finished)
    finally:
        local.shutdown()
    got = _until(dask_manager, dask_manager.start("compare", SPEC, tasks).id, _finished)
    assert got["status"] == expected["status"] == "done"
    addresses = set(cluster.scheduler_info["workers"])
    for mine, theirs in zip(got["runs"], expected["runs"]):
        assert mine["settings"] == theirs["settings"]
        assert mine["history"] == theirs["history"] and mine["initial"] == theirs["initial"]     # bit for bit
        assert mine["worker"] in addresses and theirs["worker"].startswith("local:")    # "started" came back
        assert mine["steps"] == 12 and len(mine["history"]["batch_loss"]) == 12


def test_connecting_warms_every_worker(cluster, dask_manager):
    client = dask_manager.connect()
    assert set(dask_manager.warmed) == set(cluster.scheduler_info["workers"]) and len(dask_manager.warmed) == 2
    assert dask_manager.warmed == client.run(os.getpid)                 # each worker process itself
    imported = client.run(lambda: "app.dask_worker" in sys.modules and "engine.sweep" in sys.modules)
    assert set(imported.values()) == {True}


def test_a_worker_that_does_not_answer_the_warming_does_not_hold_up_the_sweep():
    pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install -e '.[dask]')")
    import threading

    from app.dask_jobs import DaskManager

    class StuckClient:
        def __init__(self):
            self.asked, self.release = threading.Event(), threading.Event()

        def run(self, function):
            self.asked.set()
            self.release.wait(10)                   # a worker that answers only after 10 s
            return {"tcp://stuck:1": 1}
    manager = DaskManager(Settings(), "tcp://127.0.0.1:1")
    manager._client = client = StuckClient()
    manager._warm(timeout=0.05)
    assert client.asked.is_set() and manager.warmed == {}      # asked, not waited for
    client.release.set()


def test_progress_flows_back_and_cancel_cancels_the_futures(dask_manager):
    job = dask_manager.start("compare", LONG, _tasks({"learning_rate": [0.05, 0.1]}, epochs=50))
    running = _until(dask_manager, job.id, lambda j: all(r["status"] == "running" and r["history"]["batch_loss"]
                                                          for r in j["runs"]))
    assert all(0 < len(r["history"]["batch_loss"]) <= 50 for r in running["runs"])        # thinned as it goes
    done = dask_manager.cancel(job.id)
    assert done["status"] == "cancelled" and {r["status"] for r in done["runs"]} == {"cancelled"}
    assert all(f.cancelled() or f.done() for f in job.futures)
    later = dask_manager.start("compare", SPEC, _tasks({"learning_rate": [0.1]}, epochs=1))
    assert _until(dask_manager, later.id, _finished)["status"] == "done"        # the workers are free again


def test_a_killed_worker_runs_that_run_again_with_the_same_numbers(dask_manager):
    tasks = _tasks({"learning_rate": [0.05, 0.1]}, epochs=40)   # long enough to be killed mid-run
    job = dask_manager.start("compare", LONG, tasks)
    _until(dask_manager, job.id, lambda j: all(r["status"] == "running" and r["history"]["batch_loss"]
                                                for r in j["runs"]))
    victim = _pid_of(dask_manager, job, 0)
    os.kill(victim, signal.SIGKILL)
    final = _until(dask_manager, job.id, _finished, timeout=180)
    assert final["status"] == "done", final
    first, second = final["runs"]
    assert first["status"] == "done" and first.get("retried") is True
    assert second["status"] == "done"
    for run, task in zip(final["runs"], tasks):         # the same numbers as a run that was never killed
        expected = sweep.run({"spec": LONG, "settings": task["settings"], "epochs": 40})
        assert run["history"]["loss"] == [float(v) for v in expected["history"]["loss"]]


def _pid_of(manager, job, index: int) -> int:
    """The pid of the worker process that runs run ``index`` (asked of the cluster by its address)."""
    address = job.runs[index]["worker"]
    pids = manager._client.run(os.getpid, workers=[address])
    return pids[address]


def test_dask_missing_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)          # import distributed → ImportError
    assert cli.main(["serve", "--dask", "tcp://127.0.0.1:1", "--port", "0"]) == 2
    assert 'pip install -e ".[dask]"' in capsys.readouterr().err


def test_the_sweep_command_on_the_cluster_gives_the_local_numbers(cluster, tmp_path, capsys):
    args = ["sweep", "--dataset", "xor", "--layers", "4", "--optimizer", "sgd,adam", "--seeds", "2", "--epochs", "2"]
    assert cli.main([*args, "--dask", cluster.scheduler_address, "--out", str(tmp_path / "dask")]) == 0
    assert cli.main([*args, "--workers", "1", "--out", str(tmp_path / "local")]) == 0
    assert "on the Dask cluster at" in capsys.readouterr().out
    import json
    remote, local = (json.loads((tmp_path / f"{name}.json").read_text())["runs"] for name in ("dask", "local"))
    assert [r["history"] for r in remote] == [r["history"] for r in local]        # bit for bit
    assert {r["worker"] for r in remote} <= set(cluster.scheduler_info["workers"])

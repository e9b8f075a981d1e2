"""Sweeps (issue 17): 8 runs one after another, in the local executor's 2 worker processes, and
through a Dask LocalCluster with 2 worker processes; optionally a 200-run sweep's server memory.

Not a test: ``python -m benchmarks.sweep_bench [--quick] [--memory]`` prints the seconds of each
way, the ratios against the targets (local ≤ 0.6 × one after another; LocalCluster ≤ 1.15 × local)
and whether all three gave the same losses bit for bit, and writes them as JSON to
benchmarks/results/sweep-*.json. Each executor is warmed with one tiny run first (its processes
started, NumPy and the engine imported), so the seconds are the sweep's own. One BLAS thread per
process, as ``backprop-lab serve`` runs. ``--quick``: a tiny case (a few epochs) that only checks it
all works. ``--memory``: also a 200-run sweep of the default network through the local executor,
with the server process's peak resident memory (psutil).
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from app.compare_jobs import CompareManager  # noqa: E402
from app.schemas import DEFAULT_SESSION  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.worker_pool import one_blas_thread  # noqa: E402
from engine import sweep  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
GRID = {"learning_rate": [0.03, 0.1, 0.3, 1.0], "seed": [0, 1]}       # 8 runs of the default network


def tasks(grid: dict, epochs: int) -> list[dict]:
    return [{"mode": "sweep", "settings": s, "epochs": epochs} for s in sweep.expand(grid=grid)]


def until_done(manager, job_id: str, timeout: float = 3600) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = manager.snapshot(job_id)
        if job["status"] not in ("running", "cancelling"):
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(job_id)
        time.sleep(0.02)


def timed(manager, spec: dict, jobs: list[dict]) -> tuple[float, dict]:
    """Seconds from submitting ``jobs`` to the last result (the manager warmed by one tiny run first)."""
    until_done(manager, manager.start("compare", spec, tasks({"learning_rate": [0.1]}, 1)[:1]).id)
    start = time.perf_counter()
    job = until_done(manager, manager.start("compare", spec, jobs).id)
    return time.perf_counter() - start, job


def sequential(spec: dict, jobs: list[dict]) -> tuple[float, list]:
    sweep.run({"spec": spec, "settings": {}, "epochs": 1})            # warm: data, imports
    start = time.perf_counter()
    losses = [sweep.run({"spec": spec, "settings": t["settings"], "epochs": t["epochs"]})["history"]["loss"]
              for t in jobs]
    return time.perf_counter() - start, losses


def on_local_cluster(spec: dict, jobs: list[dict]) -> tuple[float | None, dict | None]:
    try:
        from distributed import LocalCluster
    except ImportError:
        print("dask.distributed is not installed (pip install -e '.[dask]'): no LocalCluster figure")
        return None, None
    from app.dask_jobs import DaskManager
    with one_blas_thread():
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=40)
    manager = DaskManager(Settings(), cluster.scheduler_address)
    try:
        return timed(manager, spec, jobs)
    finally:
        manager.shutdown()
        cluster.close()


def peak_memory(spec: dict, runs: int, epochs: int) -> dict:
    """A ``runs``-run sweep through the local executor: this (server) process's peak resident memory."""
    import psutil
    me, peak, stop = psutil.Process(), [0], threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], me.memory_info().rss)
            time.sleep(0.05)
    manager = CompareManager(Settings(max_sweep_runs=runs))
    before = me.memory_info().rss
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        seconds, job = timed(manager, spec, tasks({"seed": list(range(runs))}, epochs))
    finally:
        stop.set()
        thread.join()
        manager.shutdown()
    return {"runs": runs, "epochs": epochs, "seconds": seconds, "status": job["status"],
            "rss_before_mb": before / 1e6, "rss_peak_mb": peak[0] / 1e6}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny case: checks that it all runs")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run (default 150; --quick 2)")
    parser.add_argument("--memory", action="store_true", help="also a 200-run sweep's peak server memory")
    args = parser.parse_args(argv)
    epochs = args.epochs or (2 if args.quick else 150)
    spec = dict(DEFAULT_SESSION)
    jobs = tasks(GRID, epochs)
    one_by_one, losses = sequential(spec, jobs)
    local_manager = CompareManager(Settings(compare_workers=2))
    try:
        local, local_job = timed(local_manager, spec, jobs)
    finally:
        local_manager.shutdown()
    dask, dask_job = on_local_cluster(spec, jobs)
    same_local = [r["history"]["loss"] for r in local_job["runs"]] == losses
    same_dask = None if dask_job is None else [r["history"]["loss"] for r in dask_job["runs"]] == losses
    report = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "runs": len(jobs), "epochs": epochs,
              "load": os.getloadavg()[0], "sequential_s": one_by_one, "local_s": local, "local_cluster_s": dask,
              "local_over_sequential": local / one_by_one, "cluster_over_local": None if dask is None else dask / local,
              "same_losses_local": same_local, "same_losses_cluster": same_dask}
    if args.memory:
        report["memory"] = peak_memory(spec, 200, 2 if args.quick else 20)
    print(f"{len(jobs)} runs of the default network, {epochs} epochs each (load {report['load']:.1f})")
    def judged(ratio: float, target: float) -> str:
        return f"target ≤ {target}" + ("" if args.quick else f": {'met' if ratio <= target else 'NOT met'}")
    print(f"  one after another     {one_by_one:7.2f} s")
    print(f"  local, 2 workers      {local:7.2f} s   {report['local_over_sequential']:.2f} × one after another "
          f"({judged(report['local_over_sequential'], 0.6)})")
    if dask is not None:
        ratio = report["cluster_over_local"]
        print(f"  LocalCluster, 2 procs {dask:7.2f} s   {ratio:.2f} × local ({judged(ratio, 1.15)})")
    print(f"  the same losses bit for bit: local {same_local}, LocalCluster {same_dask}")
    if args.memory:
        m = report["memory"]
        print(f"  {m['runs']} runs: {m['status']} in {m['seconds']:.1f} s, server RSS {m['rss_before_mb']:.0f} MB "
              f"before, peak {m['rss_peak_mb']:.0f} MB")
    if args.quick:
        print("(--quick: a tiny case; the figures say nothing about the targets)")
    else:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / time.strftime("sweep-%Y%m%d-%H%M%S.json")
        path.write_text(json.dumps(report, indent=1))
        print(f"wrote {path}")
    return 0 if same_local and same_dask is not False else 1


if __name__ == "__main__":
    raise SystemExit(main())

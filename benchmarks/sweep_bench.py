"""Sweeps (issue 17): 8 runs one after another, in the local executor's 2 worker processes, and
through a Dask LocalCluster with 2 worker processes; optionally a 200-run sweep's server memory.

Not a test: ``python -m benchmarks.sweep_bench [--quick] [--memory] [--repeat N]`` prints the seconds
of each way, the ratios against the targets (local ≤ 0.6 × one after another; LocalCluster ≤ 1.15 ×
local) and whether all three gave the same losses bit for bit, and writes them as JSON to
benchmarks/results/sweep-*.json. ``--repeat N``: N rounds, the three ways interleaved (their order
turns each round), each executor started afresh and closed after its sweep so that nothing idles
beside the one measured; the medians are judged, and the fastest round of each way (the least
disturbed by other work on a shared machine) too. Each executor is warmed with one tiny run first (its
processes started, NumPy and the engine imported), so the seconds are the sweep's own. While a sweep
runs, the bench looks at the job's status every 10 ms (no copies) and takes a snapshot of its curves
every 0.5 s, as the page does (static/js/sweep.js): a full snapshot every 20 ms cost the server
process 0.2-0.4 CPU s per sweep, which the workers lost on a 2-core machine. The CPU seconds of the
server process and of its children (workers, the Manager, Dask's processes) are printed too (psutil):
less noisy than the seconds on a shared machine. One BLAS thread per process, as ``backprop-lab
serve`` runs; the LocalCluster's workers run without Dask's statistical profiler (it samples the
running task's stack every 10 ms: about 0.4 CPU s of an 8-run sweep; ``--dask-profiler`` keeps it),
and the cluster's servers (scheduler, nannies, workers) look at their event loops every second instead
of every 20 ms (``distributed.admin.tick.interval``, which only measures the loop's latency for its
"unresponsive" warnings; idle, the 20 ms ticks cost the cluster 0.15 CPU s per second, 0.06 at 1 s,
measured 2026-12-02; ``--dask-tick 20ms`` keeps Dask's default).
``--quick``: a tiny case (a few epochs) that only checks it all works. ``--memory``: also a 200-run
sweep of the default network through the local executor, with the server process's peak resident
memory (psutil).
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
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


def cpu_seconds() -> float | None:
    """User + system CPU seconds of this process and its living children (None without psutil)."""
    try:
        import psutil
    except ImportError:
        return None
    total = 0.0
    me = psutil.Process()
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def until_done(manager, job_id: str, timeout: float = 3600, watch: float = 0.5) -> dict:
    """The job once finished: its status read every 10 ms, a page's snapshot every ``watch`` s."""
    deadline = time.monotonic() + timeout
    watched = time.monotonic()
    while manager.get(job_id).status in ("running", "cancelling"):
        if time.monotonic() > deadline:
            raise TimeoutError(job_id)
        if time.monotonic() - watched >= watch:
            manager.snapshot(job_id, points=200)
            watched = time.monotonic()
        time.sleep(0.01)
    return manager.snapshot(job_id)


def timed(manager, spec: dict, jobs: list[dict]) -> tuple[float, dict, float | None]:
    """(seconds from submitting ``jobs`` to the last result, the job, CPU seconds meanwhile), the
    manager warmed by one tiny run first."""
    until_done(manager, manager.start("compare", spec, tasks({"learning_rate": [0.1]}, 1)[:1]).id)
    cpu, start = cpu_seconds(), time.perf_counter()
    job = until_done(manager, manager.start("compare", spec, jobs).id)
    seconds = time.perf_counter() - start
    return seconds, job, None if cpu is None else cpu_seconds() - cpu


def sequential(spec: dict, jobs: list[dict]) -> tuple[float, list, float]:
    sweep.run({"spec": spec, "settings": {}, "epochs": 1})            # warm: data, imports
    cpu, start = time.process_time(), time.perf_counter()
    losses = [sweep.run({"spec": spec, "settings": t["settings"], "epochs": t["epochs"]})["history"]["loss"]
              for t in jobs]
    return time.perf_counter() - start, losses, time.process_time() - cpu


def on_local(spec: dict, jobs: list[dict]) -> tuple[float, dict, float | None]:
    manager = CompareManager(Settings(compare_workers=2))
    try:
        return timed(manager, spec, jobs)
    finally:
        manager.shutdown()


def on_local_cluster(spec: dict, jobs: list[dict], profiler: bool = False, tick: str = "1s"):
    """(seconds, job, CPU seconds) on a new LocalCluster of 2 worker processes; Nones without dask."""
    try:
        import dask
        from distributed import LocalCluster
    except ImportError:
        return None, None, None
    from app.dask_jobs import DaskManager
    with one_blas_thread(), dask.config.set({"distributed.worker.profile.enabled": profiler,
                                                "distributed.admin.tick.interval": tick}):
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
        seconds, job, _ = timed(manager, spec, tasks({"seed": list(range(runs))}, epochs))
    finally:
        stop.set()
        thread.join()
        manager.shutdown()
    return {"runs": runs, "epochs": epochs, "seconds": seconds, "status": job["status"],
            "rss_before_mb": before / 1e6, "rss_peak_mb": peak[0] / 1e6}


def rounds(spec: dict, jobs: list[dict], repeat: int, profiler: bool, tick: str = "1s") -> list[dict]:
    """``repeat`` rounds of the three ways, their order turned by one each round."""
    ways = ["sequential", "local", "local_cluster"]
    out = []
    for r in range(repeat):
        row = {"load": os.getloadavg()[0]}
        for way in ways[r % 3:] + ways[:r % 3]:
            if way == "sequential":
                row["sequential_s"], row["losses"], row["sequential_cpu_s"] = sequential(spec, jobs)
            elif way == "local":
                row["local_s"], row["local_job"], row["local_cpu_s"] = on_local(spec, jobs)
            else:
                row["local_cluster_s"], row["cluster_job"], row["local_cluster_cpu_s"] = \
                    on_local_cluster(spec, jobs, profiler, tick)
        row["same_losses_local"] = [r_["history"]["loss"] for r_ in row.pop("local_job")["runs"]] == row["losses"]
        cluster_job = row.pop("cluster_job")
        row["same_losses_cluster"] = None if cluster_job is None else \
            [r_["history"]["loss"] for r_ in cluster_job["runs"]] == row["losses"]
        del row["losses"]
        row["local_over_sequential"] = row["local_s"] / row["sequential_s"]
        row["cluster_over_local"] = None if row["local_cluster_s"] is None else row["local_cluster_s"] / row["local_s"]
        out.append(row)
        print(f"  round {r + 1}: load {row['load']:.1f}, one after another {row['sequential_s']:.2f} s, local "
              f"{row['local_s']:.2f} s ({row['local_over_sequential']:.2f} ×)" +
              ("" if row["local_cluster_s"] is None else
               f", LocalCluster {row['local_cluster_s']:.2f} s ({row['cluster_over_local']:.2f} × local)"), flush=True)
    return out


def median(values: list):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def best(each: list[dict]) -> dict:
    """Each way's fastest round and the ratios of those: on a shared machine, the least disturbed."""
    fastest = {k: min((r[k] for r in each if r[k] is not None), default=None)
               for k in ("sequential_s", "local_s", "local_cluster_s")}
    local, cluster = fastest["local_s"], fastest["local_cluster_s"]
    return {**fastest, "local_over_sequential": local / fastest["sequential_s"],
            "cluster_over_local": None if cluster is None else cluster / local}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny case: checks that it all runs")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run (default 150; --quick 2)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the three ways, interleaved (medians)")
    parser.add_argument("--dask-profiler", action="store_true", help="keep the Dask workers' statistical profiler")
    parser.add_argument("--dask-tick", default="1s",
                        help="the cluster's distributed.admin.tick.interval (Dask's default: 20ms)")
    parser.add_argument("--memory", action="store_true", help="also a 200-run sweep's peak server memory")
    args = parser.parse_args(argv)
    epochs = args.epochs or (2 if args.quick else 150)
    spec = dict(DEFAULT_SESSION)
    jobs = tasks(GRID, epochs)
    print(f"{len(jobs)} runs of the default network, {epochs} epochs each")
    each = rounds(spec, jobs, max(1, args.repeat), args.dask_profiler, args.dask_tick)
    keys = ("sequential_s", "local_s", "local_cluster_s", "local_over_sequential", "cluster_over_local",
            "sequential_cpu_s", "local_cpu_s", "local_cluster_cpu_s")
    report = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "runs": len(jobs), "epochs": epochs,
              "rounds": len(each), "load": median([r["load"] for r in each]), "dask_profiler": args.dask_profiler,
              "dask_tick": args.dask_tick,
              **{k: median([r[k] for r in each]) for k in keys},
              "best": best(each),
              "same_losses_local": all(r["same_losses_local"] for r in each),
              "same_losses_cluster": None if each[0]["same_losses_cluster"] is None else
              all(r["same_losses_cluster"] for r in each), "each": each}
    if args.memory:
        report["memory"] = peak_memory(spec, 200, 2 if args.quick else 20)
    print_report(report, args.quick)
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / time.strftime("sweep-%Y%m%d-%H%M%S.json")
        path.write_text(json.dumps(report, indent=1))
        print(f"wrote {path}")
    return 0 if report["same_losses_local"] and report["same_losses_cluster"] is not False else 1


def print_report(report: dict, quick: bool) -> None:
    def judged(ratio: float, target: float) -> str:
        return f"target ≤ {target}" + ("" if quick else f": {'met' if ratio <= target else 'NOT met'}")

    def cpu(key: str) -> str:
        return "" if report[key] is None else f"   CPU {report[key]:5.2f} s"
    which = "medians of " + str(report["rounds"]) + " rounds, " if report["rounds"] > 1 else ""
    print(f"{which}load {report['load']:.1f}")
    print(f"  one after another     {report['sequential_s']:7.2f} s{cpu('sequential_cpu_s')}")
    print(f"  local, 2 workers      {report['local_s']:7.2f} s{cpu('local_cpu_s')}   "
          f"{report['local_over_sequential']:.2f} × one after another ({judged(report['local_over_sequential'], 0.6)})")
    if report["local_cluster_s"] is None:
        print("  dask.distributed is not installed (pip install -e '.[dask]'): no LocalCluster figure")
    else:
        ratio = report["cluster_over_local"]
        print(f"  LocalCluster, 2 procs {report['local_cluster_s']:7.2f} s{cpu('local_cluster_cpu_s')}   "
              f"{ratio:.2f} × local ({judged(ratio, 1.15)})")
    if report["rounds"] > 1:
        b = report["best"]
        print(f"  fastest rounds: one after another {b['sequential_s']:.2f} s, local {b['local_s']:.2f} s "
              f"({b['local_over_sequential']:.2f} ×; {judged(b['local_over_sequential'], 0.6)})" +
              ("" if b["local_cluster_s"] is None else f", LocalCluster {b['local_cluster_s']:.2f} s "
               f"({b['cluster_over_local']:.2f} × local; {judged(b['cluster_over_local'], 1.15)})"))
    print(f"  the same losses bit for bit: local {report['same_losses_local']}, "
          f"LocalCluster {report['same_losses_cluster']}")
    if "memory" in report:
        m = report["memory"]
        print(f"  {m['runs']} runs: {m['status']} in {m['seconds']:.1f} s, server RSS {m['rss_before_mb']:.0f} MB "
              f"before, peak {m['rss_peak_mb']:.0f} MB")
    if quick:
        print("(--quick: a tiny case; the figures say nothing about the targets)")


if __name__ == "__main__":
    raise SystemExit(main())

"""``backprop-lab sweep``: a sweep from the terminal, in local worker processes or on a Dask cluster.

    backprop-lab sweep --dataset mnist --layers 128,64 --lr 0.01,0.1,1 --optimizer sgd,adam \\
        --seeds 3 --epochs 3 [--dask tcp://HOST:PORT] [--out results/sweep]

Every combination of the given values (× the seeds) is one run of engine/sweep.py's ``run``; a
progress bar counts finished runs, then a table gives each run's final loss, accuracy and seconds,
and the runs are written as JSON (with their curves) and CSV (one row per run).
"""
from __future__ import annotations

import csv
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

from engine import sweep
from engine.builder import default_loss
from engine.compare import load_data


def timed_run(config: dict) -> dict:
    """sweep.run(config) with the seconds its training took (the data set loaded before) and where it
    ran (a Dask worker's address or local:PID)."""
    load_data(config["spec"]["dataset"], cache=True)        # the process keeps it for the run
    start = time.perf_counter()
    result = sweep.run(config)
    try:
        from distributed import get_worker
        worker = get_worker().address
    except (ImportError, ValueError):
        worker = f"local:{os.getpid()}"
    return {**result, "seconds": time.perf_counter() - start, "worker": worker}


def _list(text: str, kind=str) -> list:
    return [kind(v) for v in text.split(",") if v.strip()]


def base_spec(args) -> dict:
    """The sweep's session config from the options (the output layer from the data set)."""
    dataset = {"name": args.dataset}
    if args.dataset != "mnist":
        dataset["seed"] = args.seed
    elif args.max_train:
        dataset["max_train"] = args.max_train
    data = load_data(dataset)
    out = ({"units": data.n_classes, "activation": "softmax"} if data.kind == "classification"
           else {"units": data.y_train.shape[1], "activation": "linear"})
    return {"dataset": dataset, "layers": [*({"units": u, "activation": args.activation} for u in args.layers[0]), out],
            "loss": default_loss(data.kind, data.n_classes), "optimizer": {"name": "sgd", "learning_rate": 0.1},
            "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
            "batch_size": args.batch_size[0], "seed": args.seed}


def grid_of(args) -> dict:
    """The axes the options sweep (one given value is no axis: it is in the base config)."""
    grid = {"optimizer": _list(args.optimizer), "learning_rate": _list(args.lr, float),
            "batch_size": args.batch_size, "layers": args.layers,
            "seed": [args.seed + i for i in range(args.seeds)]}
    return {axis: values for axis, values in grid.items() if len(values) > 1 or axis in ("optimizer", "learning_rate")}


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = round(width * done / max(total, 1))
    return f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} runs"


def execute(configs: list[dict], workers: int, dask: str | None, out=None) -> list[dict]:
    """Run every config (in local processes, or on the Dask scheduler ``dask``), showing a bar on
    ``out`` (default: the standard error at the time of the call)."""
    out = out or sys.stderr
    results: list[dict | None] = [None] * len(configs)
    out.write(_bar(0, len(configs)))
    if dask:
        from distributed import Client
        from distributed import as_completed as dask_completed
        with Client(dask, timeout=10) as client:
            futures = {client.submit(timed_run, c, pure=False): i for i, c in enumerate(configs)}
            for n, future in enumerate(dask_completed(futures), 1):
                results[futures[future]] = future.result()
                out.write(_bar(n, len(configs)))
    else:
        import multiprocessing

        from .worker_pool import one_blas_thread
        with one_blas_thread(), ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(timed_run, c): i for i, c in enumerate(configs)}
            for n, future in enumerate(as_completed(futures), 1):
                results[futures[future]] = future.result()
                out.write(_bar(n, len(configs)))
    out.write("\n")
    return results


def summary(result: dict) -> dict:
    """A run's row: its settings, status and final metrics (the last epoch's, test split as val_*)."""
    h = result["history"]
    last = {k: (v[-1] if v else None) for k, v in h.items() if k != "batch_loss"}
    return {"settings": result["settings"], "status": result["status"], "learning_rate": result["learning_rate"],
            **last, "seconds": result["seconds"], "worker": result["worker"],
            "diverged": (result.get("diverged") or {}).get("reason"),
            "diverged_step": (result.get("diverged") or {}).get("step")}


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else (json.dumps(value) if isinstance(value, (dict, list)) else str(value))


def table(rows: list[dict]) -> str:
    """The runs as a text table: settings, status, final loss, accuracy (or mae), seconds, worker."""
    metric = "acc" if any("acc" in r for r in rows) else "mae"
    head = ["#", "settings", "status", "loss", "val_loss", f"val_{metric}", "seconds", "worker"]
    body = [[str(i), sweep_label(r["settings"]), r["status"], _cell(r.get("loss")), _cell(r.get("val_loss")),
             _cell(r.get(f"val_{metric}")), f"{r['seconds']:.2f}", r["worker"]] for i, r in enumerate(rows)]
    widths = [max(len(line[c]) for line in [head, *body]) for c in range(len(head))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip() for line in [head, *body]]
    lines += [f"#{i} diverged" + ("" if r.get("diverged_step") is None else f" at step {r['diverged_step']}")
              + f": {r['diverged']}" for i, r in enumerate(rows) if r["status"] == "diverged" and r.get("diverged")]
    return "\n".join(lines)


def sweep_label(settings: dict) -> str:
    return ", ".join(f"{k}={_cell(v)}" for k, v in settings.items())


def write(prefix: str, spec: dict, rows: list[dict], results: list[dict]) -> tuple[str, str]:
    """PREFIX.json (the config, every run's summary and curves) and PREFIX.csv (one row per run)."""
    folder = os.path.dirname(prefix)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(f"{prefix}.json", "w") as f:
        json.dump({"spec": spec, "runs": [{**row, "history": res["history"]} for row, res in zip(rows, results)]},
                  f, default=float)
    axes = sorted({k for r in rows for k in r["settings"]})
    fields = [*axes, *[k for k in rows[0] if k != "settings" and k not in axes]]
    with open(f"{prefix}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({**{a: _cell(row["settings"].get(a)) for a in axes},
                             **{k: _cell(v) for k, v in row.items() if k in fields and k not in axes}})
    return f"{prefix}.json", f"{prefix}.csv"


def cmd_sweep(args) -> int:
    try:
        spec = base_spec(args)
        configs = [{"spec": spec, "settings": s, "epochs": args.epochs} for s in sweep.expand(grid=grid_of(args))]
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.dask:
        try:
            import distributed  # noqa: F401
        except ImportError:
            print('error: --dask needs dask.distributed: pip install -e ".[dask]"', file=sys.stderr)
            return 2
    where = f"on the Dask cluster at {args.dask}" if args.dask else f"in {args.workers} local worker processes"
    print(f"{len(configs)} runs of {args.epochs} epochs {where}", flush=True)
    results = execute(configs, args.workers, args.dask)
    rows = [summary(r) for r in results]
    print(table(rows))
    prefix = args.out or time.strftime("sweep-%Y%m%d-%H%M%S")
    print("wrote " + " and ".join(write(prefix, spec, rows, results)))
    return 0

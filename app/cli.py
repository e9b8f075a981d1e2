"""The ``backprop-lab`` command: train, download and (once the server exists) serve."""
from __future__ import annotations

import argparse
import os
import sys
import time

import app.blas  # noqa: F401  (first: one BLAS thread unless asked, before NumPy loads)
from engine import Diverged, datasets
from engine.builder import build_model, default_loss

from .settings import Settings


def _parse_layers(text: str) -> list[int]:
    try:
        units = [int(u) for u in text.split(",") if u.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--layers takes comma-separated unit counts like 8,8, got {text!r}") from None
    if any(u < 1 for u in units):
        raise argparse.ArgumentTypeError(f"--layers needs positive unit counts, got {text!r}")
    return units


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number expected, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def cmd_train(args) -> int:
    """Train a network on a registered data set, printing Keras' progress bar and the test score."""
    options = {"seed": args.seed} if args.dataset != "mnist" else {}
    if args.dataset == "mnist" and args.max_train:
        options["max_train"] = args.max_train
    if args.dataset == "csv":
        if not args.csv or not args.target:
            print("error: --dataset csv needs --csv FILE and --target COLUMN", file=sys.stderr)
            return 2
        options.update(path=args.csv, target=args.target)
    try:
        data = datasets.load(args.dataset, **options)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    classification = data.kind == "classification"
    out_units = data.n_classes if classification else data.y_train.shape[1]
    out_act = "softmax" if classification else "linear"
    layers = [{"units": u, "activation": args.activation} for u in args.layers]
    layers.append({"units": out_units, "activation": out_act})
    optimizer = {"name": args.optimizer, "learning_rate": args.lr}
    loss = args.loss or default_loss(data.kind, data.n_classes)
    try:
        model = build_model(data.x_train.shape[1], layers, loss, optimizer,
                            metrics=["acc"] if classification else ["mae"], seed=args.seed)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    y_train, y_test = data.targets("train"), data.targets("test")
    print(f"Data set {data.name}: {data.n_train} training and {data.n_test} test samples, "
          f"{data.x_train.shape[1]} inputs")
    model.summary()
    start = time.perf_counter()
    try:
        model.fit(data.x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                  validation_data=(data.x_test, y_test), verbose=1)
    except Diverged as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    score = model.evaluate(data.x_test, y_test)
    name = "accuracy" if classification else "mae"
    print(f"Test loss {score[0]:.4f}, test {name} {score[1]:.4f} after {args.epochs} epochs in {seconds:.2f} s")
    return 0


def cmd_download(args) -> int:
    """Fetch the four MNIST files, checking each SHA-256."""
    try:
        folder = datasets.mnist.download(dest=args.dest)
    except datasets.DownloadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"MNIST is ready in {folder}")
    return 0


def serve_settings(args):
    """The server's Settings from ``serve``'s options: the caps a teacher raises for a class, the names
    the server answers to, and its access token (--token, else BACKPROP_LAB_TOKEN, else a new one when
    --host lets other machines in). ValueError for a host name that is not one."""
    import os

    from . import hosts
    token = args.token if args.token is not None else os.environ.get("BACKPROP_LAB_TOKEN") or None
    if token is None and not hosts.is_loopback(args.host):
        token = hosts.new_token()
    return Settings(max_sessions=args.max_sessions, max_total_params=args.max_total_params,
                    idle_expiry_seconds=args.idle_expiry, bind_host=args.host, token=token,
                    allowed_hosts=tuple(hosts.allowed_host(h) for h in args.allow_host))


def _use_dask(application, address: str) -> int:
    """Sweeps on the Dask cluster at ``address``: 0, or 2 with a message (dask missing, no scheduler)."""
    from .dask_jobs import use_dask
    try:
        client = use_dask(application, address).connect()
    except RuntimeError as exc:             # dask.distributed is not installed: how to install it
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: no Dask scheduler answers at {address}: {exc}", file=sys.stderr)
        return 2
    workers = len(client.scheduler_info().get("workers", {}))
    print(f"Comparisons and sweeps run on the Dask cluster at {address} ({workers} workers now)", flush=True)
    return 0


def cmd_serve(args) -> int:
    """Run the web app with uvicorn."""
    import uvicorn

    from . import hosts
    from .main import create_app
    try:
        settings = serve_settings(args)
        application = create_app(settings)      # checks the token and the host names
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.dask:
        code = _use_dask(application, args.dask)
        if code:
            return code
    links = hosts.links(settings, args.port)
    if settings.token is None:
        print(f"Backprop Lab is running at {links[0][1]}  (Ctrl+C stops it)", flush=True)
    else:
        print("Backprop Lab is running. Open it with this link (it carries the access token):")
        for who, url in links:
            print(f"    {url}    ({who})")
        if all(who == "this machine" for who, _ in links) and not hosts.is_loopback(args.host):
            print("    (other machines: this machine's address instead of 127.0.0.1; --allow-host NAME for a name)")
        print("Pages opened without the token are refused. Ctrl+C stops the server.", flush=True)
    # No permessage-deflate: zlib on every frame cost ~150 ms per MB (a 2.6 MB MNIST frame took 220 ms
    # to send instead of 40), more than it saves on a local connection.
    uvicorn.run(application, host=args.host, port=args.port, log_level="warning",
                ws_per_message_deflate=False)
    return 0


def _architectures(text: str) -> list[list[int]]:
    return [_parse_layers(part) for part in text.split(";") if part.strip()]


def _sweep_parser(sub) -> None:
    from .sweep_cli import cmd_sweep
    p = sub.add_parser("sweep", help="train every combination of settings, print a table, write JSON and CSV",
                       description="Every combination of the given values (comma-separated) × the seeds is one run "
                       "from the same initial weights per seed (engine/sweep.py).")
    p.add_argument("--dataset", default="xor", choices=datasets.names(), help="data set (default: xor)")
    p.add_argument("--layers", type=_architectures, default=[[8, 8]],
                   help="hidden units, e.g. 128,64; several architectures with ; (8,8;16)")
    p.add_argument("--activation", default="tanh", help="hidden activation (default: tanh)")
    p.add_argument("--optimizer", default="sgd", help="optimizers, e.g. sgd,adam (default: sgd)")
    p.add_argument("--lr", default="0.1", help="learning rates, e.g. 0.01,0.1,1 (default: 0.1)")
    p.add_argument("--batch-size", type=lambda t: [_positive_int(v) for v in t.split(",") if v.strip()], default=[16],
                   help="batch sizes, e.g. 16,64 (default: 16)")
    p.add_argument("--seeds", type=_positive_int, default=1, help="seeds per setting: seed, seed+1, ... (default: 1)")
    p.add_argument("--seed", type=int, default=0, help="the first seed (weights, batch order, 2-D data)")
    p.add_argument("--epochs", type=_positive_int, default=3, help="epochs per run (default: 3)")
    p.add_argument("--max-train", type=int, default=None, help="MNIST: use only the first N images")
    p.add_argument("--workers", type=_positive_int, default=2, help="local worker processes (default: 2)")
    p.add_argument("--dask", default=os.environ.get("BACKPROP_LAB_DASK") or None, metavar="ADDRESS",
                   help="run on this Dask scheduler instead (default: $BACKPROP_LAB_DASK)")
    p.add_argument("--out", default=None, metavar="PREFIX", help="write PREFIX.json and PREFIX.csv "
                   "(default: sweep-DATE-TIME in the current folder)")
    p.set_defaults(func=cmd_sweep)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="backprop-lab", description="Watch a neural network learn.")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a network on a data set in the terminal")
    train.add_argument("--dataset", default="xor", choices=datasets.names(), help="data set (default: xor)")
    train.add_argument("--layers", type=_parse_layers, default=[8, 8], help="hidden units, e.g. 8,8")
    train.add_argument("--activation", default="tanh", help="hidden activation (default: tanh)")
    train.add_argument("--loss", default=None, help="loss (default: categorical_crossentropy or mse)")
    train.add_argument("--optimizer", default="sgd", help="sgd, adam, adagrad, rmsprop or adadelta")
    train.add_argument("--lr", type=float, default=0.1, help="learning rate (default: 0.1)")
    train.add_argument("--epochs", type=int, default=30, help="passes over the training data")
    train.add_argument("--batch-size", type=int, default=16, help="samples per weight update")
    train.add_argument("--seed", type=int, default=0, help="seed for data, weights and batch order")
    train.add_argument("--max-train", type=int, default=None, help="MNIST: use only the first N images")
    train.add_argument("--csv", default=None, help="with --dataset csv: the CSV file (header row, numbers)")
    train.add_argument("--target", default=None, help="with --dataset csv: the column to predict")
    train.set_defaults(func=cmd_train)
    download = sub.add_parser("download", help="download a data set (mnist)")
    download.add_argument("name", choices=["mnist"])
    download.add_argument("--dest", default=None, help="folder to write to (default: the user cache)")
    download.set_defaults(func=cmd_download)
    _sweep_parser(sub)
    serve = sub.add_parser("serve", help="run the web app", description="Run the web app. Each page (browser "
                           "tab) holds one training session; a closed page gives its session back, and a "
                           "session unused for --idle-expiry seconds is dropped. For a class, raise "
                           "--max-sessions to the number of students' tabs.")
    defaults = Settings()
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this "
                       "machine only; 0.0.0.0 lets other machines reach it)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default: 8000)")
    serve.add_argument("--max-sessions", type=_positive_int, default=defaults.max_sessions, metavar="N",
                       help=f"training sessions held at once, one per open page (default: {defaults.max_sessions})")
    serve.add_argument("--max-total-params", type=_positive_int, default=defaults.max_total_params, metavar="N",
                       help=f"weights summed over all sessions (default: {defaults.max_total_params:,}; "
                       "about 4 bytes of memory each, several times over for gradients and optimizer state)")
    serve.add_argument("--idle-expiry", type=float, default=defaults.idle_expiry_seconds, metavar="SECONDS",
                       help=f"drop a session unused this long (default: {defaults.idle_expiry_seconds:g})")
    serve.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                       help="another name (or address) this server is reached by, e.g. lab.school.example; "
                       "repeatable. Requests naming any other host are refused, which stops web pages using DNS "
                       "rebinding; localhost, 127.0.0.1, [::1] and the --host address are always allowed")
    serve.add_argument("--token", default=None, metavar="TOKEN",
                       help="access token every page and API client must show (default: $BACKPROP_LAB_TOKEN, "
                       "else a new random one when --host is not loopback, else none); the server prints "
                       "the link with it, and API clients may send 'Authorization: token TOKEN'")
    serve.add_argument("--dask", default=os.environ.get("BACKPROP_LAB_DASK") or None, metavar="ADDRESS",
                       help="run comparisons and sweeps on this Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                       "(default: $BACKPROP_LAB_DASK, else local worker processes); needs pip install -e "
                       "\".[dask]\" here and on the cluster's workers")
    serve.set_defaults(func=cmd_serve)
    return parser


def main(argv=None) -> int:
    args = make_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

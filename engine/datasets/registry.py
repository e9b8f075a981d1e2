"""The single list of data sets: names, what they are, their options, and ``load(name, **options)``."""
from __future__ import annotations

import copy
import threading
from pathlib import Path

import numpy as np

from . import csv_data, mnist, playground
from .dataset import DataSet
from .options import int_option, text_option, validate

MNIST_OPTIONS = {
    "max_train": int_option(mnist.N_TRAIN, 1, mnist.N_TRAIN, "Use only the first N training images."),
    "max_test": int_option(mnist.N_TEST, 1, mnist.N_TEST, "Use only the first N test images."),
    "path": text_option(None, "Folder holding the four MNIST files (default: $BACKPROP_LAB_DATA, "
                              "then the per-user cache).", kind="path"),
}
_PIXELS = mnist.ROWS * mnist.COLS
_CACHE: dict = {}                  # {"key": (folder, file stats), "data": read-only uint8 arrays}
_CACHE_LOCK = threading.Lock()


def names() -> list[str]:
    """Every data set name, playground sets first, then "mnist" and "csv"."""
    return [*playground.NAMES, "mnist", "csv"]


def _playground_entry(name: str) -> dict:
    """list_datasets() row of a generated 2-D set, sizes for the default options."""
    _, kind, description = playground.GENERATORS[name]
    n = playground.OPTIONS["n_samples"]["default"]
    n_train = int(round(playground.OPTIONS["train_fraction"]["default"] * n))
    return {"name": name, "kind": kind, "source": "generated",
            "input_shape": [len(playground.OPTIONS["features"]["default"])],
            "n_classes": 2 if kind == "classification" else None, "n_train": n_train, "n_test": n - n_train,
            "available": True, "reason": None, "description": description,
            "options": copy.deepcopy(playground.OPTIONS)}


def _mnist_entry() -> dict:
    """list_datasets() row of MNIST: available only when find_dir() finds its four files."""
    available = mnist.is_available()
    return {"name": "mnist", "kind": "classification", "source": "file", "input_shape": [_PIXELS],
            "n_classes": 10, "n_train": mnist.N_TRAIN, "n_test": mnist.N_TEST, "available": available,
            "reason": None if available else mnist.not_found_message(),
            "description": "Handwritten digits 0-9, 28×28 grey images flattened to 784 values in [0, 1].",
            "options": copy.deepcopy(MNIST_OPTIONS)}


def _csv_entry() -> dict:
    """list_datasets() row of an uploaded CSV: kind, shape and sizes depend on the file (None here)."""
    return {"name": "csv", "kind": None, "source": "upload", "input_shape": None, "n_classes": None,
            "n_train": None, "n_test": None, "available": True, "reason": None,
            "description": "Your own CSV file: a header row, one sample per row, and a target column.",
            "options": copy.deepcopy(csv_data.OPTIONS)}


def list_datasets() -> list[dict]:
    """One JSON-friendly dict per data set: name, kind, source, input_shape, n_classes, n_train, n_test,
    available, reason (None, or how to get it), description, options ({name: default, bounds, help})."""
    return [*(_playground_entry(n) for n in playground.NAMES), _mnist_entry(), _csv_entry()]


def _mnist_arrays(path) -> tuple:
    """(x_train, y_train, x_test, y_test) uint8, read once per folder and file state, then cached."""
    folder = mnist.find_dir(path)
    if folder is None:
        raise mnist.MnistNotFoundError(mnist.not_found_message(path))
    stats = tuple((f.stat().st_size, f.stat().st_mtime_ns) for f in (folder / n for n in mnist.FILES))
    key = (str(folder.resolve()), stats)
    with _CACHE_LOCK:
        if _CACHE.get("key") != key:
            (xtr, ytr), (xte, yte) = mnist.load_data(folder)
            for a in (xtr, ytr, xte, yte):
                a.flags.writeable = False
            _CACHE.update(key=key, data=(xtr, ytr, xte, yte))
        return _CACHE["data"]


def _load_mnist(opts: dict) -> DataSet:
    """MNIST as a DataSet: x = pixels / 255 as float32 (n, 784), y = digit labels, first N of each split."""
    xtr, ytr, xte, yte = _mnist_arrays(opts["path"])
    a, b = opts["max_train"], opts["max_test"]
    x_train = xtr[:a].reshape(-1, _PIXELS).astype(np.float32)
    x_test = xte[:b].reshape(-1, _PIXELS).astype(np.float32)
    x_train /= 255.0
    x_test /= 255.0
    return DataSet(
        name="mnist", kind="classification",
        x_train=x_train, y_train=ytr[:a], x_test=x_test, y_test=yte[:b],
        n_classes=10, class_names=[str(d) for d in range(10)], input_shape=(_PIXELS,),
        feature_names=[f"pixel_{r}_{c}" for r in range(mnist.ROWS) for c in range(mnist.COLS)],
        image_shape=(mnist.ROWS, mnist.COLS), options=dict(opts),
        description=f"MNIST digits: the first {a} training and {b} test images, pixels scaled to [0, 1].",
    )


def load(name: str, **options) -> DataSet:
    """The data set ``name`` built with ``options`` (see list_datasets() for each one's options and bounds).

    Unknown names and bad options raise ValueError; MNIST files not found raise MnistNotFoundError.
    """
    if name in playground.GENERATORS:
        return playground.generate(name, **options)
    if name == "mnist":
        return _load_mnist(validate(name, MNIST_OPTIONS, options))
    if name == "csv":
        opts = validate(name, csv_data.OPTIONS, options)
        return csv_data.load_csv(Path(opts.pop("path")), **opts)
    raise ValueError(f"Unknown data set {name!r}; valid names: {', '.join(names())}")


def clear_cache() -> None:
    """Forget the cached MNIST arrays (they are re-read on the next load)."""
    with _CACHE_LOCK:
        _CACHE.clear()

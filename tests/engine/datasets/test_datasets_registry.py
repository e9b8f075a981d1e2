"""engine.datasets registry: list_datasets() is complete and truthful, load() builds and refuses."""
from __future__ import annotations

import json

import numpy as np
import pytest

import engine.datasets as datasets
from engine.datasets import DataSet, MnistNotFoundError, list_datasets, load

NAMES = ["circle", "xor", "gaussian", "spiral", "moons", "plane", "multi_gaussian", "mnist", "csv"]
KEYS = {"name", "kind", "source", "input_shape", "n_classes", "n_train", "n_test", "available", "reason",
        "description", "options"}


def _entry(name):
    """The list_datasets() row called ``name``."""
    return next(d for d in list_datasets() if d["name"] == name)


def test_every_data_set_is_listed_with_its_metadata():
    entries = list_datasets()
    assert [d["name"] for d in entries] == NAMES == datasets.names()
    json.dumps(entries)                                             # the server can send it as is
    for d in entries:
        assert set(d) == KEYS, d["name"]
        assert d["description"].endswith(".") and len(d["description"]) > 20
        for opt, spec in d["options"].items():
            assert spec["help"], (d["name"], opt)
            if spec["type"] in ("int", "float"):
                assert spec["min"] <= spec["default"] <= spec["max"], (d["name"], opt)
    assert _entry("circle")["options"]["n_samples"] == {
        "type": "int", "default": 500, "min": 20, "max": 5000, "help": "Number of points, train and test together."}
    assert _entry("csv")["options"]["target"]["required"] is True


@pytest.mark.parametrize("name", NAMES[:7])
def test_generated_sets_load_as_listed(name):
    entry = _entry(name)
    ds = load(name)
    assert isinstance(ds, DataSet) and ds.name == name and ds.kind == entry["kind"]
    assert [ds.n_train, ds.n_test] == [entry["n_train"], entry["n_test"]] == [250, 250]
    assert list(ds.input_shape) == entry["input_shape"] and ds.n_classes == entry["n_classes"]
    assert entry["available"] is True and entry["reason"] is None
    assert ds.options == {k: v["default"] for k, v in entry["options"].items()}
    again = load(name, **ds.options)                                # options reproduce the data
    assert np.array_equal(again.x_train, ds.x_train) and np.array_equal(again.y_test, ds.y_test)


def test_mnist_available_exactly_when_found(monkeypatch, mnist_dir, tmp_path):
    monkeypatch.setenv("BACKPROP_LAB_DATA", str(tmp_path))          # empty folder, empty cache
    entry = _entry("mnist")
    assert entry["available"] is False and "backprop-lab download mnist" in entry["reason"]
    with pytest.raises(MnistNotFoundError, match="backprop-lab download mnist"):
        load("mnist")
    monkeypatch.setenv("BACKPROP_LAB_DATA", str(mnist_dir))
    entry = _entry("mnist")
    assert entry["available"] is True and entry["reason"] is None
    assert (entry["n_classes"], entry["n_train"], entry["n_test"], entry["input_shape"]) == (10, 60000, 10000, [784])


def test_mnist_through_the_registry(monkeypatch, mnist_dir):
    monkeypatch.setenv("BACKPROP_LAB_DATA", str(mnist_dir.parent))  # the folder that holds mnist/
    ds = load("mnist", max_train=100, max_test=50)
    assert ds.x_train.shape == (100, 784) and ds.x_test.shape == (50, 784) and ds.input_shape == (784,)
    assert ds.x_train.dtype == np.float32 and ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    assert ds.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4] and ds.y_test[:3].tolist() == [7, 2, 1]
    assert ds.image_shape == (28, 28) and ds.class_names == list("0123456789") and ds.n_classes == 10
    (x_raw, _), _ = datasets.mnist.load_data(mnist_dir)
    assert np.array_equal(ds.x_train[3], x_raw[3].ravel().astype(np.float32) / 255)
    assert ds.targets("test").shape == (50, 10) and ds.targets("test").sum() == 50
    ds.x_train[:] = -1                                              # a caller scribbling on its copy ...
    fresh = load("mnist", path=mnist_dir, max_train=100, max_test=50)
    assert fresh.x_train.min() == 0.0                               # ... does not spoil the cache
    full = load("mnist", path=str(mnist_dir))
    assert (full.n_train, full.n_test) == (60000, 10000)


@pytest.mark.parametrize("name, options, words", [
    ("mnist", {"max_train": 0}, ["max_train", "1", "60000"]),
    ("mnist", {"max_test": 20000}, ["max_test", "1", "10000"]),
    ("mnist", {"colour": 1}, ["colour", "max_train", "max_test", "path"]),
    ("circle", {"noise": 0.9}, ["noise", "0.0", "0.5"]),
    ("spiral", {"n_samples": True}, ["n_samples", "integer"]),
    ("plane", {"features": "x9"}, ["features", "x1^2"]),
])
def test_bad_options_are_refused_with_bounds(name, options, words):
    with pytest.raises(ValueError) as info:
        load(name, **options)
    assert all(w in str(info.value) for w in words), str(info.value)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError) as info:
        load("cifar10")
    assert "cifar10" in str(info.value) and all(n in str(info.value) for n in NAMES)


def test_keras_style_import_and_dataset_helpers():
    from engine.datasets import mnist
    assert callable(mnist.load_data) and mnist.FILES[0] == "train-images-idx3-ubyte.gz"
    ds = load("plane", n_samples=40, train_fraction=0.75)
    assert ds.targets("train").shape == (30, 1) and ds.inputs("test").shape == (10, 2)
    assert ds.info()["n_train"] == 30 and json.dumps(ds.info())
    with pytest.raises(ValueError, match="split"):
        ds.targets("validation")
    with pytest.raises(ValueError, match="kind"):
        DataSet("x", "clustering", np.zeros((2, 1)), np.zeros(2), np.zeros((1, 1)), np.zeros(1))
    with pytest.raises(ValueError, match="rows"):
        DataSet("x", "regression", np.zeros((2, 1)), np.zeros(3), np.zeros((1, 1)), np.zeros(1))

"""engine.datasets.csv_data.load_csv: good files of both kinds, and a clear error for each bad one."""
from __future__ import annotations

import io

import numpy as np
import pytest

from engine.datasets import load, load_csv


def _rows(ds):
    """All (x..., y) rows of train and test, as a sorted list of tuples."""
    x = np.concatenate([ds.x_train, ds.x_test]).astype(float)
    y = np.concatenate([ds.y_train, ds.y_test]).reshape(len(x), -1).astype(float)
    return sorted(map(tuple, np.hstack([x, y]).round(4)))


def test_classification_with_integer_labels(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 3)).round(3)
    y = np.arange(30) % 3 + 1                                    # labels 1, 2, 3
    lines = ["a,b,label,c"] + [f"{r[0]},{r[1]},{t},{r[2]}" for r, t in zip(x, y)]
    path = tmp_path / "small.csv"
    path.write_text("\n".join(lines) + "\n")
    ds = load_csv(path, "label", seed=1)
    assert ds.kind == "classification" and ds.n_classes == 3 and ds.class_names == ["1", "2", "3"]
    assert ds.feature_names == ["a", "b", "c"] and ds.input_shape == (3,) and ds.name == "csv:small.csv"
    assert ds.x_train.shape == (24, 3) and ds.x_test.shape == (6, 3) and ds.x_train.dtype == np.float32
    assert ds.y_train.dtype == np.int64 and set(ds.y_train) <= {0, 1, 2}
    expected = sorted(map(tuple, np.hstack([x, (y - 1)[:, None]]).round(4)))
    assert _rows(ds) == expected                                 # every row kept, label 1→class 0 ...
    onehot = ds.targets("train")
    assert onehot.shape == (24, 3) and np.array_equal(onehot.argmax(1), ds.y_train)
    again = load_csv(path, "label", seed=1)
    other = load_csv(path, "label", seed=2)
    assert np.array_equal(again.x_test, ds.x_test) and not np.array_equal(other.x_test, ds.x_test)


def test_text_labels_bytes_bom_semicolons_and_file_objects():
    text = "\ufeffx;y;kind\n" + "".join(f"{i};{i * i};{'yes' if i % 2 else 'no'}\n" for i in range(10))
    for source in (text.encode(), io.BytesIO(text.encode()), io.StringIO(text)):
        ds = load_csv(source, "kind", test_fraction=0.3)
        assert ds.kind == "classification" and ds.class_names == ["no", "yes"]
        assert ds.feature_names == ["x", "y"] and (ds.n_train, ds.n_test) == (7, 3)
        x = np.concatenate([ds.x_train, ds.x_test])
        y = np.concatenate([ds.y_train, ds.y_test])
        assert np.array_equal(y, x[:, 0] % 2)                    # odd → "yes" → class 1


def test_regression_detected_and_forced(tmp_path):
    x = np.linspace(0, 1, 20)
    path = tmp_path / "reg.csv"
    path.write_text("x,y\n" + "".join(f"{a:.3f},{2 * a + 0.5:.3f}\n" for a in x))
    ds = load_csv(path, "y")
    assert ds.kind == "regression" and ds.n_classes is None and ds.class_names is None
    assert ds.y_train.shape == (16, 1) and ds.y_train.dtype == np.float32
    assert np.allclose(np.concatenate([ds.y_train, ds.y_test])[:, 0],
                       2 * np.concatenate([ds.x_train, ds.x_test])[:, 0] + 0.5, atol=2e-3)
    ints = tmp_path / "ints.csv"
    ints.write_text("x,count\n" + "".join(f"{i},{i % 4}\n" for i in range(12)))
    assert load_csv(ints, "count").kind == "classification"
    forced = load_csv(ints, "count", kind="regression")
    assert forced.kind == "regression" and forced.targets("test", one_hot=True).shape == (2, 1)
    halves = tmp_path / "halves.csv"
    halves.write_text("x,t\n" + "".join(f"{i},{0.5 + i % 2}\n" for i in range(8)))
    assert load_csv(halves, "t").kind == "regression"
    assert load_csv(halves, "t", kind="classification").class_names == ["0.5", "1.5"]


def test_through_the_registry(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("u,v\n1,0\n2,1\n3,0\n4,1\n5,0\n")
    ds = load("csv", path=str(path), target="v", test_fraction=0.4)
    assert ds.kind == "classification" and (ds.n_train, ds.n_test) == (3, 2)
    assert ds.options["path"] == str(path)
    with pytest.raises(ValueError, match="target .*required"):
        load("csv", path=str(path))
    with pytest.raises(ValueError, match="test_fraction .*0.05 and 0.5"):
        load("csv", path=str(path), target="v", test_fraction=0.9)


GOOD_HEAD = "a,b,t\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n"
BAD = {
    "non-numeric cell": ("a,b,t\n1,2,0\n3,abc,1\n5,6,0\n7,8,1\n", {},
                         ["Line 3", "column 'b'", "'abc' is not a number"]),
    "empty cell": ("a,b,t\n1,2,0\n3,4,1\n,6,0\n7,8,1\n", {}, ["Line 4", "column 'a'", "missing value"]),
    "NA cell": ("a,b,t\n1,2,0\n3,4,1\n5,NA,0\n7,8,1\n", {}, ["Line 4", "column 'b'", "missing value"]),
    "infinite cell": ("a,b,t\n1,2,0\n3,inf,1\n5,6,0\n7,8,1\n", {}, ["Line 3", "column 'b'", "not a finite"]),
    "missing target value": ("a,b,t\n1,2,0\n3,4,\n5,6,0\n7,8,1\n", {}, ["Line 3", "column 't'", "missing"]),
    "text target for regression": ("a,b,t\n1,2,0\n3,4,x\n5,6,0\n7,8,1\n", {"kind": "regression"},
                                   ["Line 3", "column 't'", "'x' is not a number"]),
    "missing target column": (GOOD_HEAD, {"target": "label"},
                              ["Target column 'label' not found", "a, b, t"]),
    "too few rows": ("a,b,t\n1,2,0\n3,4,1\n5,6,0\n", {}, ["3 data rows", "at least 4"]),
    "too many rows": (GOOD_HEAD + "9,9,0\n", {"max_rows": 4}, ["more than max_rows = 4"]),
    "too many bytes": (GOOD_HEAD, {"max_bytes": 20}, ["larger than the limit of max_bytes = 20"]),
    "ragged row": ("a,b,t\n1,2,0\n3,4\n5,6,0\n7,8,1\n", {}, ["Line 3 has 2 cells", "header has 3"]),
    "empty file": ("\n\n", {}, ["empty"]),
    "duplicate column": ("a,a,t\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n", {}, ["'a' appears twice"]),
    "unnamed column": ("a,,t\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n", {}, ["Column 2 has no name"]),
    "target only": ("t\n0\n1\n0\n1\n", {}, ["only the target column 't'"]),
    "single class": ("a,t\n1,0\n2,0\n3,0\n4,0\n", {}, ["single value (0)", "at least 2"]),
    "not utf-8": (b"a,t\n1,0\n\xff\xfe,1\n", {}, ["not UTF-8"]),
    "bad kind": (GOOD_HEAD, {"kind": "clustering"}, ["kind", "classification", "regression"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_csv_raises_value_error_naming_the_problem(case, tmp_path):
    content, kwargs, words = BAD[case]
    path = tmp_path / "bad.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    kwargs = {"target": "t", **kwargs}
    with pytest.raises(ValueError) as info:
        load_csv(path, **kwargs)
    assert all(w in str(info.value) for w in words), str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_csv(tmp_path / "nope.csv", "t")
